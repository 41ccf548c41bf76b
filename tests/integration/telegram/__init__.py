"""Integration tests of the Telegram front end against the loopback Bot API."""
