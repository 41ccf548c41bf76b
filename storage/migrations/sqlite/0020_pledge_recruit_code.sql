-- Who a recruit code names is looked up by index, not by hashing every supporter of the
-- campaign on each page view. ``recruit_code`` is the code of the pledge's supporter for
-- its campaign (derived by the core with the secret key; storage only keeps it), set when
-- the pledge is stored. Every older pledge has NULL: the core codes a campaign's NULL rows
-- on the first lookup that misses (RecruitCodes.recruiter). The row's erasure takes the
-- code with it.

ALTER TABLE pledges ADD COLUMN recruit_code TEXT;

CREATE INDEX pledges_recruit_code ON pledges (campaign_id, recruit_code);
