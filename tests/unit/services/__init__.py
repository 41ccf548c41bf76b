"""Unit tests of the core services over a real in-memory SQLite repository."""
