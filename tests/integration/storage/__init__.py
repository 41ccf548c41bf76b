"""Storage tests against real SQLite and PostgreSQL."""
