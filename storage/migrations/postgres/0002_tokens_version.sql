-- A counter bumped on every write of an account's tokens or revoked flag (a new link, a
-- refresh, a revocation): the account's change marker, read without decrypting anything.

ALTER TABLE accounts ADD COLUMN tokens_version INTEGER NOT NULL DEFAULT 0;
