-- 0022: the audience list at 10,000 audiences (issue 16) reads pages through indexes instead of
-- sorting or looking at every row. Each sort key of ../../audience-page.ts (SORT_KEYS) gets its
-- index, ending in the id (the cursor's tie-break), so a page is LIMIT rows walked in order.
-- "Needs attention" is read from a partial index holding only the downstream audiences whose row
-- says so (its WHERE is audience-page.ts rowAttentionSql, word for word: test/store/attention-index.test.ts)
-- and, for a configuration needing re-authorization, from its downstream rows by configuration.
CREATE INDEX audiences_by_name ON audiences (lower(name), id);
CREATE INDEX audiences_by_members ON audiences (member_count, id);
CREATE INDEX audiences_by_updated ON audiences (updated_at, id);
CREATE INDEX audiences_by_created ON audiences (created_at, id);
CREATE INDEX downstreams_by_configuration ON downstreams (configuration_id);
CREATE INDEX downstreams_attention ON downstreams (audience_id) WHERE state <> 'deleting' AND (
    (last_error_at IS NOT NULL AND last_error_at > COALESCE(last_synced_at, 0) AND last_error_at > COALESCE(refreshed_at, 0))
    OR state = 'recreating'
    OR (targetable = false AND sized_at IS NOT NULL AND processing_since IS NULL));
