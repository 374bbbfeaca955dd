-- 0023: renewals without an index entry per hash (issue 13; src/store/renewals.ts). The index by
-- confirmation time existed only so that a renewal step could take the oldest confirmations first
-- and nextDueAt read the oldest: 154 bytes per member on SQLite. Instead each downstream audience
-- keeps a lower bound of its oldest confirmation, and renewals go in hash order behind a cursor,
-- each full pass setting the bound again.
-- renew_bound: no hash X confirmed for it is older (NULL: none confirmed). renew_pass_min: the
-- oldest confirmation the running pass has left behind, from its start (NULL: no pass running).
-- renew_cursor: the running pass's position in hash order (NULL: its start).
ALTER TABLE downstreams ADD COLUMN renew_bound bigint;
ALTER TABLE downstreams ADD COLUMN renew_pass_min bigint;
ALTER TABLE downstreams ADD COLUMN renew_cursor bytea;
-- The bound of what is there, exact: read through the index one last time (a seek per downstream).
UPDATE downstreams SET renew_bound = (SELECT MIN(x.confirmed_at) FROM x_members x WHERE x.downstream_id = downstreams.id AND x.confirmed);
DROP INDEX x_members_by_confirmed_at;
