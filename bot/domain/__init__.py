"""Plain domain objects and the rules that govern their state changes."""
