"""The role this process plays in a deployment: the leader (arms the timers, runs the
reminders and reports) or a follower (serves the web app, takes blast work).

One process alone is the leader. ``RoleState`` is the seam leader election sets: whoever
wins or loses the leadership calls ``set``; ``/readyz`` and the ``chorus_leader`` metric
read ``current``, and the runtime marks the process ``draining`` once it is stopping.
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class Role(StrEnum):
    LEADER = "leader"
    FOLLOWER = "follower"


class RoleState:
    """The current role of this process, and whether it is shutting down."""

    def __init__(self, role: Role = Role.LEADER) -> None:
        self._role = role
        self._draining = False

    @property
    def current(self) -> Role:
        return self._role

    @property
    def is_leader(self) -> bool:
        return self._role is Role.LEADER

    @property
    def draining(self) -> bool:
        return self._draining

    def set(self, role: Role) -> None:
        """Record a change of role (leader election calls this)."""
        if role is not self._role:
            log.info("role: %s -> %s", self._role, role)
        self._role = role

    def drain(self) -> None:
        """The process is stopping: it takes no new work and reports itself not ready."""
        self._draining = True
