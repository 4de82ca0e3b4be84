"""Progress on stderr: a Hydra callback for a sweep (runs done / total, time left), bars for a single run.

It watches the sweep folder rather than the workers: each job's folder name is a pure function of
its overrides (:func:`experiments.configuration.job_dirname`), so the callback knows every job's
folder in advance and counts the ones whose ``_COMPLETE`` marker has appeared. That works the same
with every launcher (joblib processes, Ray workers, SLURM nodes writing to a shared file system).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from experiments.configuration import expand_sweep, job_dirname
from sim.results import COMPLETE_MARKER

__all__ = ["RunProgress", "SweepProgress"]

SETUP_NAMES = ("network loaded", "places", "people", "routine trips routed", "ready")


class RunProgress:
    """Two bars for one run on stderr: the set-up's stages, then the simulated steps (with memory).

    Pass an instance as ``progress`` to :func:`sim.model.run_simulation`; call :meth:`close` at the end.
    """

    def __init__(self, *, mininterval_s: float = 1.0) -> None:
        self.mininterval_s = mininterval_s
        self._bar: Any = None
        self._phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Advance the bar of ``phase`` to ``done`` of ``total`` (a new phase closes the previous bar)."""
        from tqdm import tqdm

        from sim.progress import peak_memory_bytes

        if phase != self._phase:
            self.close()
            self._phase = phase
            unit = "stage" if phase == "set-up" else "step"
            self._bar = tqdm(
                total=total, desc=phase, unit=unit, file=sys.stderr, mininterval=self.mininterval_s
            )
        bar = self._bar
        if phase == "set-up":
            bar.set_postfix_str(SETUP_NAMES[min(done, len(SETUP_NAMES)) - 1], refresh=False)
        elif done == total or time.monotonic() - bar.last_print_t >= self.mininterval_s:
            bar.set_postfix_str(f"peak {peak_memory_bytes() / 2**30:.2f} GiB", refresh=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        """Close the current bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class SweepProgress(Callback):
    """Progress bar of a multirun: starts in ``on_multirun_start``, stops in ``on_multirun_end``."""

    def __init__(self, poll_s: float = 0.5) -> None:
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Return the settings only: the callback travels to worker processes, the thread stays home."""
        return {"poll_s": self.poll_s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild from :meth:`__getstate__`'s settings, with no thread running."""
        self.__init__(**state)  # type: ignore[misc]

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Start printing progress lines: complete jobs out of those the sweep will launch.

        Parameters
        ----------
        config
            The sweep's composed config (``hydra.sweeper.params``, ``hydra.overrides.task``,
            ``hydra.sweep.dir`` name the jobs and their folders).
        **kwargs
            Unused (Hydra's callback signature).
        """
        try:
            params = OmegaConf.select(config, "hydra.sweeper.params", default=None)
            params = OmegaConf.to_container(params) if params is not None else None
            jobs = expand_sweep(
                list(config.hydra.overrides.task), params if isinstance(params, dict) else None
            )
            sweep_dir = Path(str(config.hydra.sweep.dir))
        except Exception:  # an unusual sweeper or syntax: no bar rather than no sweep
            return
        markers = [sweep_dir / job_dirname(job) / COMPLETE_MARKER for job in jobs]
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, args=(markers, time.time()), daemon=True)
        self._thread.start()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Stop the progress lines (after a last one).

        Parameters
        ----------
        config
            The sweep's composed config (unused).
        **kwargs
            Unused (Hydra's callback signature).
        """
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self, markers: list[Path], started: float) -> None:
        from tqdm import tqdm

        # Runs already complete when the sweep starts will be skipped: they count as done at once.
        before = {m for m in markers if m.is_file()}
        total, shown = len(markers), -1
        t0 = time.monotonic()
        while True:
            stopping = self._stop.wait(self.poll_s)
            done = sum(1 for m in markers if m in before or _newer(m, started))
            if done != shown:
                # Whole lines, not a redrawn bar: workers print their own lines to the same terminal.
                line = tqdm.format_meter(
                    done, total, time.monotonic() - t0, prefix="runs", initial=len(before),
                    bar_format="{desc}: {n_fmt}/{total_fmt} done {bar:20} {elapsed} elapsed, ~{remaining} left",
                )  # fmt: skip
                print(line, file=sys.stderr, flush=True)
                shown = done
            if stopping or done >= total:
                break


def _newer(marker: Path, since: float) -> bool:
    try:
        return marker.stat().st_mtime >= since - 1.0
    except OSError:
        return False
