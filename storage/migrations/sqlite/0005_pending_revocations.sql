-- Tokens Chorus no longer needs, waiting to be revoked at their network. A row is made
-- when an account's tokens are erased (no pledge needs them, or /forget) and deleted once
-- the network confirms; a failed attempt keeps it for a later retry. Nothing else of the
-- person is kept: the tokens stay encrypted, account_id is a bare number (no reference,
-- the account may be erased already).

CREATE TABLE pending_revocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER,
    network TEXT NOT NULL,
    instance TEXT NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    queued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT
);
