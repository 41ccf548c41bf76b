"""Unit tests of the launch scheduler: events, restarts, grace, cancellation."""
