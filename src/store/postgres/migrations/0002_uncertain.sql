-- 0002: the X ledger says whether X confirmed each hash (as SQLite's x_members.confirmed).
-- confirmed = true: X acknowledged it. false: uncertain, because a batch touching it went out and
-- its answer was never settled (a crash, a dropped connection, a lease taken over). An uncertain
-- hash is never assumed present or absent: adds and removes of it are always sent, so no crash
-- can make Tailor skip a needed change. Rows already there were confirmed by a settle.
ALTER TABLE x_members ADD COLUMN confirmed boolean NOT NULL DEFAULT true;
ALTER TABLE x_members ALTER COLUMN confirmed DROP DEFAULT;
