"""Social network adapters: each implements ``SocialNetwork`` and ``AccountLinker``."""
