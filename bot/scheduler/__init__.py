"""Arms each live campaign's timed events and runs them once, even across restarts."""

from bot.scheduler.launch_scheduler import LaunchScheduler

__all__ = ["LaunchScheduler"]
