-- A moderator pressed Reject and Chorus waits for their reason: one row per moderator
-- (their platform key), with the campaign, the prompt message the reason must answer and
-- when the wait ends. Until now such a row hid in the dialogs table under a made-up key
-- ("telegram:<id>:reject-reason"); those rows move here, waiting one more day.
--
-- The Discord form's kept answers (under "<user key>:discord-form") become part of the
-- dialog they belong to (its "form" entry); answers with no dialog left are dropped.

CREATE TABLE pending_reject_reasons (
    moderator_key TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    prompt_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

INSERT INTO pending_reject_reasons (moderator_key, campaign_id, prompt_id, expires_at)
SELECT substr(d.user_key, 1, length(d.user_key) - length(':reject-reason')),
       json_extract(d.state, '$.campaign_id'),
       CAST(json_extract(d.state, '$.prompt_id') AS TEXT),
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now', '+1 day')
FROM dialogs AS d
JOIN campaigns AS c ON c.id = json_extract(d.state, '$.campaign_id')
WHERE d.user_key LIKE '%:reject-reason';

DELETE FROM dialogs WHERE user_key LIKE '%:reject-reason';

UPDATE dialogs
SET state = json_set(state, '$.form', json(
    (SELECT f.state FROM dialogs AS f WHERE f.user_key = dialogs.user_key || ':discord-form')
))
WHERE EXISTS (SELECT 1 FROM dialogs AS f WHERE f.user_key = dialogs.user_key || ':discord-form');

DELETE FROM dialogs WHERE user_key LIKE '%:discord-form';
