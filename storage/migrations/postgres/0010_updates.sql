-- Organiser updates: each one sent to a campaign's supporters (the rolling daily limit
-- counts these rows, and they are the audit of what was said to whom, how many reached),
-- and the supporters who muted a campaign's updates.

CREATE TABLE campaign_updates (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    reached INTEGER NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0,
    unreachable INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaign_updates_sent ON campaign_updates (campaign_id, sent_at);

CREATE TABLE update_mutes (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    person_platform TEXT NOT NULL,
    person_id TEXT NOT NULL,
    muted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, person_platform, person_id)
);
CREATE INDEX update_mutes_person ON update_mutes (person_platform, person_id);
