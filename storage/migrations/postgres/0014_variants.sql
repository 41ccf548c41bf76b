-- Message variants: a campaign's other wordings (a JSON list of {"text", "language"}; an
-- empty list for every existing campaign), and the wording each pledge posts (its index:
-- 0 the main message; NULL for pledges made before variants, which post the main message).

ALTER TABLE campaigns ADD COLUMN variants JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE pledges ADD COLUMN variant INTEGER;
