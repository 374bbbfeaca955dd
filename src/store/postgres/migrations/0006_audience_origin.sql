-- 0006: where each audience came from, so that a Firehose message acts only on audiences the
-- Firehose created for that mParticle account (docs/firehose.md, "Which audiences a message may touch").
--   origin          'api' (PUT /api/v1/audiences/:id, and so every import target) or 'firehose'
--   origin_account  for 'firehose': the mParticle account of the message that created it,
--                   'mparticle:<account.account_id>' (src/sources/firehose/origin.ts); NULL for
--                   rows classified below
--
-- Existing rows cannot be told apart: a Firehose audience and a REST one look the same. The rule
-- keeps running Firehose deployments working while leaving every audience the Firehose could not
-- have created out of its reach: an audience whose id is an mParticle audience id (an integer,
-- the only ids the Firehose can name) and that has a connection is 'firehose', with no account;
-- the Firehose may then act on it only through the configurations it is connected to (as it did).
-- Every other existing audience is 'api'.
ALTER TABLE audiences ADD COLUMN origin text NOT NULL DEFAULT 'api' CHECK (origin IN ('api', 'firehose'));
ALTER TABLE audiences ADD COLUMN origin_account text;
UPDATE audiences SET origin = 'firehose'
 WHERE id ~ '^-?[0-9]+$'
   AND EXISTS (SELECT 1 FROM connections c WHERE c.audience_id = audiences.id);
