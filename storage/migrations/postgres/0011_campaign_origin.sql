-- Where a campaign was created: its card is posted there once approved (``promote_origin``,
-- the organiser may decline), and the public page's chat link (``join_*``): an invite the
-- organiser gave (``join_invite``), else the link to the first card posted there.

ALTER TABLE campaigns ADD COLUMN promote_origin BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE campaigns ADD COLUMN join_platform TEXT;
ALTER TABLE campaigns ADD COLUMN join_url TEXT;
ALTER TABLE campaigns ADD COLUMN join_invite BOOLEAN NOT NULL DEFAULT FALSE;
