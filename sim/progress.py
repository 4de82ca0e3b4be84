"""How far a run has got: the progress callback a user interface passes in, and the peak memory so far."""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

__all__ = ["SETUP_STAGES", "Progress", "no_progress", "peak_memory_bytes"]

# progress(phase, done, total): "set-up" stages as they finish, then "run" steps; a UI draws the bars
Progress = Callable[[str, int, int], None]
SETUP_STAGES = 5  # network loaded, places, people, routine trips routed, ready


def no_progress(phase: str, done: int, total: int) -> None:
    """Report nothing (the default)."""
    return None


def peak_memory_bytes() -> int:
    """Return this process's peak resident memory so far (``ru_maxrss``), in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)  # bytes on macOS, KiB on Linux
