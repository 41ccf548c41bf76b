-- When Chorus registered its app on each Mastodon instance: new registrations are capped
-- per hour (MASTODON_REGISTRATIONS_PER_HOUR), counted from these rows. Registrations made
-- before this step have no time and do not count.

ALTER TABLE mastodon_apps ADD COLUMN registered_at TIMESTAMPTZ;
CREATE INDEX mastodon_apps_registered ON mastodon_apps (registered_at);
