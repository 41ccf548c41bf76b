-- Recruiters who agreed to be named on a campaign's page and in /status. No row means
-- anonymous (the default). ``name`` is the name they chose to show (their chat display
-- name, or what a web supporter typed), never an internal id. Withdrawing from the
-- campaign or /forget deletes the row.

CREATE TABLE recruiter_names (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    supporter_key TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (campaign_id, supporter_key)
);
