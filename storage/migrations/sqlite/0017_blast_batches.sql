-- The shared blast: at the launch the auto pledges to post are split into batches that
-- workers claim under a lease; a batch whose lease ran out is claimed again. ``claims``
-- counts the claims: above 1 the batch's SENDING pledges are reconciled before anything
-- is posted again. One SQLite process claims in its single write transaction; the lease
-- is a Julian day number (SQLite's own ``julianday('now')``).

CREATE TABLE blast_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    pledge_ids TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'claimed', 'done')),
    owner TEXT,
    lease_until REAL,
    claims INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, number)
);
CREATE INDEX blast_batches_open ON blast_batches (id) WHERE state <> 'done';
