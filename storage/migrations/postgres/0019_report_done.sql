-- The report is resumable: its steps are claimed one by one ("report" once the taps are
-- closed, "report_organiser", "report_chat" per chat, "personal_result" per person) and
-- "report_done" last; a launched campaign without "report_done" has its report finished
-- by the scheduler. Reports written before claimed "report" alone, at their start: they
-- count as done, so none is told again after the upgrade.

INSERT INTO campaign_events (campaign_id, kind, subject, claimed_at)
SELECT campaign_id, 'report_done', NULL, claimed_at FROM campaign_events WHERE kind = 'report';
