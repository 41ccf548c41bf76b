"""Chorus core: domain rules, services, ports, scheduler and the pledge web app.

Nothing in this package imports a chat SDK, a social-network SDK or a database
driver; adapters and storage implement the ports declared in ``bot.ports``.
"""
