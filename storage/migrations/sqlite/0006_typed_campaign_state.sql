-- Typed state instead of strings. A campaign's options were keys of its notes JSON
-- ("late_minutes", "tap" = "1"): they become columns and notes goes. Once-only events were
-- names counted by prefix ("milestone:50", "tap:12", "report"): each becomes a kind and an
-- optional subject (the milestone's percent, the pledge whose tap link was opened), claimed
-- once per campaign, kind and subject.

ALTER TABLE campaigns ADD COLUMN late_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (late_minutes >= 0);
ALTER TABLE campaigns ADD COLUMN tap_offered INTEGER NOT NULL DEFAULT 0;
UPDATE campaigns SET
    late_minutes = MAX(COALESCE(CAST(json_extract(notes, '$.late_minutes') AS INTEGER), 0), 0),
    tap_offered = COALESCE(json_extract(notes, '$.tap') = '1', 0);
ALTER TABLE campaigns DROP COLUMN notes;

CREATE TABLE campaign_events_typed (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject INTEGER,
    claimed_at TEXT NOT NULL
);
INSERT INTO campaign_events_typed (campaign_id, kind, subject, claimed_at)
SELECT campaign_id,
       CASE WHEN name LIKE 'milestone:%' THEN 'milestone'
            WHEN name LIKE 'tap:%' THEN 'tap_opened'
            ELSE name END,
       CASE WHEN name LIKE 'milestone:%' THEN CAST(substr(name, 11) AS INTEGER)
            WHEN name LIKE 'tap:%' THEN CAST(substr(name, 5) AS INTEGER) END,
       claimed_at
FROM campaign_events;
DROP TABLE campaign_events;
ALTER TABLE campaign_events_typed RENAME TO campaign_events;
CREATE UNIQUE INDEX campaign_events_once
    ON campaign_events (campaign_id, kind, COALESCE(subject, -1));
