-- 0015: the audit log, and the index the retention of X's data prunes by.
--
-- audit_log is append-only: who changed which configuration, audience, connection, suppression or
-- erasure, and when. Object ids only, never a raw identity. The trigger refuses UPDATE, DELETE and
-- TRUNCATE, so no code path (nor a mistake) can rewrite the record.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,            -- admin_token | ui_session | firehose | cli
  action text NOT NULL,           -- e.g. audience.created
  object_type text NOT NULL,      -- configuration | audience | connection | suppression | erasure
  object_id text,
  audience_id text,
  configuration_id text,
  details jsonb                   -- counts, toggles; never an identity
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- TAILOR_X_DATA_RETENTION_DAYS: samples older than the limit are deleted by time.
CREATE INDEX samples_by_time ON samples (at);
