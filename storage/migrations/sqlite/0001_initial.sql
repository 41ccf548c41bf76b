-- Chorus schema, SQLite. Times are fixed-width ISO 8601 UTC text; secrets are Fernet text.

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ref TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    goal INTEGER NOT NULL CHECK (goal >= 0),
    launch_at TEXT NOT NULL,
    networks TEXT NOT NULL,
    organiser_platform TEXT NOT NULL,
    organiser_id TEXT NOT NULL,
    organiser_name TEXT NOT NULL,
    organiser_language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    origin_platform TEXT,
    origin_chat_id TEXT,
    decided_by_platform TEXT,
    decided_by_id TEXT,
    decided_by_name TEXT,
    decided_by_language TEXT,
    decided_at TEXT,
    reject_reason TEXT,
    status_changed_at TEXT,
    notes TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_organiser ON campaigns (organiser_platform, organiser_id);
CREATE INDEX campaigns_status ON campaigns (status);

CREATE TABLE cards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    chat_platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE INDEX cards_campaign ON cards (campaign_id, kind);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_platform TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    owner_language TEXT NOT NULL,
    network TEXT NOT NULL,
    instance TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    followers INTEGER NOT NULL DEFAULT 0,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    token_expires_at TEXT,
    token_scope TEXT NOT NULL DEFAULT '',
    linked_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    UNIQUE (network, instance, remote_id)
);
CREATE INDEX accounts_owner ON accounts (owner_platform, owner_id);

CREATE TABLE pledges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    supporter_platform TEXT NOT NULL,
    supporter_id TEXT NOT NULL,
    supporter_name TEXT NOT NULL,
    supporter_language TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    network TEXT NOT NULL,
    created_at TEXT NOT NULL,
    message TEXT,
    status TEXT NOT NULL,
    delivery TEXT NOT NULL,
    delivery_mode TEXT,
    failure_reason TEXT,
    remote_post_id TEXT,
    remote_post_url TEXT,
    posted_at TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, account_id)
);
CREATE INDEX pledges_account ON pledges (account_id);
CREATE INDEX pledges_supporter ON pledges (supporter_platform, supporter_id);

CREATE TABLE campaign_events (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, name)
);

CREATE TABLE used_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);

CREATE TABLE dialogs (
    user_key TEXT PRIMARY KEY,
    state TEXT NOT NULL
);

CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE mastodon_apps (
    instance TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL
);
