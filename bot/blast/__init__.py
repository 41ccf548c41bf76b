"""The synchronised blast: prepare, post or offer at the launch moment, read back, report."""

from bot.blast.launch import Blast, BlastResult
from bot.blast.policy import BlastTuning, RetryPolicy

__all__ = ["Blast", "BlastResult", "BlastTuning", "RetryPolicy"]
