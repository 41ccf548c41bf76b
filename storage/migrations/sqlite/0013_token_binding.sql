-- A secret an adapter binds to a grant's tokens (e.g. the private key of a sender-constrained
-- grant and where to use it), encrypted like the tokens. Kept wherever tokens are kept: on
-- the account and in the revocation queue (revoking may need it). NULL for every existing
-- grant: the networks linked so far bind nothing.

ALTER TABLE accounts ADD COLUMN token_binding TEXT;

ALTER TABLE pending_revocations ADD COLUMN token_binding TEXT;
