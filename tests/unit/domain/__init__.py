"""Unit tests of the domain rules."""
