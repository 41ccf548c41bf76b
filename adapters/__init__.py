"""Adapters: the chat platforms and social networks, each behind one of the core's ports."""
