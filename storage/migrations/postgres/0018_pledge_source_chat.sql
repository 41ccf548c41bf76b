-- The chat a pledge came from: "platform:id" of the group or channel whose card's Support
-- button the supporter pressed, and that chat's title when it was known. NULL for every
-- older pledge and for pledges whose chat is unknown (the public page, a forged link).

ALTER TABLE pledges ADD COLUMN source_chat TEXT;
ALTER TABLE pledges ADD COLUMN source_chat_title TEXT;
