-- A moderator's prompt for words now serves two purposes: the reason for a rejection, or
-- the note asking the organiser for changes. The row says which; the rows already
-- waiting were all rejections.

ALTER TABLE pending_reject_reasons ADD COLUMN kind TEXT NOT NULL DEFAULT 'reject';
