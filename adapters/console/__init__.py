"""The console front end: one person plays organiser, moderator and supporters in a terminal.

``chorus console`` wires it to the sandbox network and a clock that can be fast-forwarded,
so the whole life of a campaign fits in a few typed lines.
"""
