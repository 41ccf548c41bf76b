-- The goal decision taken at the launch moment, stored with the move to LAUNCHING: MET or
-- MISSED, and the number of supporters (people) it was taken on. Rows from before have
-- none; the launch decides them first.

ALTER TABLE campaigns ADD COLUMN launch_decision TEXT CHECK (launch_decision IN ('met', 'missed'));
ALTER TABLE campaigns ADD COLUMN launch_supporters INTEGER CHECK (launch_supporters >= 0);

-- Follower counts are stored between 0 and 1,000,000,000 (bot.domain.account), so the sum
-- of a campaign's reach cannot overflow; clamp what was stored before that rule.
UPDATE accounts SET followers = 1000000000 WHERE followers > 1000000000;
UPDATE accounts SET followers = 0 WHERE followers < 0;
