-- Recruit links: who brought a supporter to a campaign. ``recruited_by`` is the recruiter's
-- supporter key ("telegram:123"), NULL for a supporter who came on their own (every
-- existing pledge). The index serves the per-campaign recruiter figures.

ALTER TABLE pledges ADD COLUMN recruited_by TEXT;

CREATE INDEX pledges_recruited_by ON pledges (campaign_id, recruited_by);
