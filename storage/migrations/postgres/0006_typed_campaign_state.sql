-- Typed state instead of strings. A campaign's options were keys of its notes JSON
-- ("late_minutes", "tap" = "1"): they become columns and notes goes. Once-only events were
-- names counted by prefix ("milestone:50", "tap:12", "report"): each becomes a kind and an
-- optional subject (the milestone's percent, the pledge whose tap link was opened), claimed
-- once per campaign, kind and subject.

ALTER TABLE campaigns ADD COLUMN late_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (late_minutes >= 0);
ALTER TABLE campaigns ADD COLUMN tap_offered BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE campaigns SET
    late_minutes = GREATEST(COALESCE(NULLIF(notes ->> 'late_minutes', '')::INTEGER, 0), 0),
    tap_offered = COALESCE(notes ->> 'tap' = '1', FALSE);
ALTER TABLE campaigns DROP COLUMN notes;

ALTER TABLE campaign_events ADD COLUMN kind TEXT;
ALTER TABLE campaign_events ADD COLUMN subject BIGINT;
UPDATE campaign_events SET
    kind = CASE WHEN name LIKE 'milestone:%' THEN 'milestone'
                WHEN name LIKE 'tap:%' THEN 'tap_opened'
                ELSE name END,
    subject = CASE WHEN name LIKE 'milestone:%' THEN substr(name, 11)::BIGINT
                   WHEN name LIKE 'tap:%' THEN substr(name, 5)::BIGINT END;
ALTER TABLE campaign_events ALTER COLUMN kind SET NOT NULL;
ALTER TABLE campaign_events DROP COLUMN name;  -- and the primary key on it
CREATE UNIQUE INDEX campaign_events_once
    ON campaign_events (campaign_id, kind, COALESCE(subject, -1));
