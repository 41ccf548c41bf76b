-- Channels where the bot is an administrator allowed to post, remembered from the chat
-- platform's membership updates so an organiser can pick one after a restart. Cards are
-- now also looked up by chat: a channel that drops the bot forgets its cards.

CREATE TABLE known_channels (
    chat_platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    PRIMARY KEY (chat_platform, chat_id)
);

CREATE INDEX cards_chat ON cards (chat_platform, chat_id);
