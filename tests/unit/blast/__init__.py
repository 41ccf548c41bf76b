"""Unit tests of the blast: delivery, failures, tap mode, recovery, reports."""
