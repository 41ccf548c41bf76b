"""Use cases of the core: what organisers, moderators and supporters can do."""
