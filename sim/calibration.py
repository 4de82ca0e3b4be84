"""A calibrated city: the folder ``precinct calibrate`` writes, read back and applied to a run.

A calibration folder holds::

    calibration.yaml   what was fitted, to which map and incident file, over which period, with
                       the fitted values (and their spread) and the validation scores
    segments.parquet   per street segment: the fit period's recorded count, the count the
                       uncalibrated model expects there (the place-based prior), street name and way id,
                       and the near-repeat boost the fit period's last weeks left (boost_start)
    validation.json / validation.html   the test period's scores (see docs/calibration.md)

``precinct run city.calibration=DIR`` runs on the calibration's map with its fitted values; a value
given on the command line beside it wins. The per-segment attractiveness is a Poisson-gamma
shrinkage of the model's own expectation towards the fit period's counts (Clayton & Kaldor 1987,
Biometrics 43:671; the empirical-Bayes estimator of small-area relative risk)::

    relative risk_s = (count_s + k) / (expected_s + k)

so a street with no recorded crime keeps most of its place-based attractiveness when ``k``
(``crime.prior_strength``, in pseudo-crimes) is large, and the counts dominate when it is small.

A calibration made on another map (its SHA-256 differs) or by a version of the model whose
parameters mean something else (:data:`MODEL_VERSION`) is refused with one line that says why.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from sim.errors import FileError

__all__ = [
    "BOOST_COLUMN",
    "CALIBRATION_FILE",
    "CALIBRATION_FORMAT",
    "MODEL_VERSION",
    "SEGMENTS_FILE",
    "Calibration",
    "CalibrationError",
    "SegmentPriors",
    "file_sha256",
    "load_calibration",
    "place_multiplier",
    "read_segment_priors",
    "relative_risk",
]

CALIBRATION_FILE = "calibration.yaml"
SEGMENTS_FILE = "segments.parquet"
BOOST_COLUMN = "boost_start"
CALIBRATION_FORMAT = 1
# Bumped whenever a mechanism changes what a fitted parameter means (e.g. the offence types of
# issue 11); a calibration of another model version is refused rather than silently misapplied.
MODEL_VERSION = "2026.11.1"


class CalibrationError(FileError):
    """A calibration folder cannot be used: missing, damaged, for another map or model version."""


@lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file (cached while its size and modification time are unchanged)."""
    st = os.stat(path)
    return _sha256_cached(os.path.realpath(path), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Calibration:
    """A calibration folder's ``calibration.yaml``, checked."""

    folder: Path
    city: dict[str, Any]
    """``path``, ``network_type``, ``name``, ``map_sha256``, ``n_segments``."""
    crime: dict[str, Any]
    """Fitted ``crime.*`` values, applied to every run of the calibrated city."""
    population: dict[str, Any] = field(default_factory=dict)
    """``population.*`` values of the calibrated city: its ``seed``, the synthetic population the place
    terms were fitted to (empty in a calibration made before it was kept: each run draws its own)."""
    data: dict[str, Any] = field(default_factory=dict)
    """The incident file (path, SHA-256) and the fit and test periods."""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    """Each fitted value with its spread: name, value, lo, hi, how."""
    validation: dict[str, Any] = field(default_factory=dict)
    """Headline test-period scores (the full set is in validation.json)."""

    @property
    def segments_path(self) -> Path:
        """The per-segment counts and priors (Parquet)."""
        return self.folder / SEGMENTS_FILE

    def describe(self) -> str:
        """One line for logs and reports: which data, which periods."""
        d = self.data
        return (
            f"calibrated to {Path(str(d.get('incidents', '?'))).name} "
            f"(fit {d.get('fit_start', '?')} to {d.get('fit_end', '?')}, "
            f"tested {d.get('test_start', '?')} to {d.get('test_end', '?')})"
        )

    def check_map(self, map_path: str | os.PathLike[str]) -> None:
        """Raise CalibrationError unless ``map_path`` is the map this calibration was made on."""
        want = str(self.city.get("map_sha256", ""))
        got = file_sha256(map_path)
        if got != want:
            raise CalibrationError(
                self.folder,
                f"made on another map ({Path(str(self.city.get('path', '?'))).name}, SHA-256 {want[:12]}...) "
                f"than city.path={map_path} (SHA-256 {got[:12]}...)",
                "calibrate this map with `precinct calibrate`, or drop city.path to use the calibration's map",
            )

    def overrides(self, explicit: Collection[str] = ()) -> dict[str, Any]:
        """Return the ``crime.*`` and ``population.*`` values to set (keys as ``section.name``), minus those given explicitly."""
        out = {f"crime.{k}": v for k, v in self.crime.items()}
        out["crime.segment_prior"] = str(self.segments_path)
        out.update({f"population.{k}": v for k, v in self.population.items() if v is not None})
        return {k: v for k, v in out.items() if k not in explicit}


def load_calibration(folder: str | os.PathLike[str]) -> Calibration:
    """Read and check a calibration folder (format, model version, files present).

    Raises
    ------
    CalibrationError
        The folder or its files are missing or unreadable, or it was made by another model version.
    """
    root = Path(folder).expanduser()
    fix = "give city.calibration the folder `precinct calibrate` wrote (outputs/calibration/NAME)"
    if not root.is_dir():
        raise CalibrationError(root, "no such calibration folder", fix)
    path = root / CALIBRATION_FILE
    if not path.is_file():
        raise CalibrationError(root, f"has no {CALIBRATION_FILE} (an unfinished calibration?)", fix)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CalibrationError(path, f"cannot be read ({exc})", "rerun `precinct calibrate`") from None
    if not isinstance(doc, dict):
        raise CalibrationError(path, "is not a mapping", "rerun `precinct calibrate`")
    fmt, version = doc.get("format"), doc.get("model_version")
    if fmt != CALIBRATION_FORMAT or version != MODEL_VERSION:
        raise CalibrationError(
            root,
            f"made by another version of the model (format {fmt}, model {version}; this one reads "
            f"format {CALIBRATION_FORMAT}, model {MODEL_VERSION})",
            "rerun `precinct calibrate` with this version",
        )
    for key in ("city", "crime"):
        if not isinstance(doc.get(key), dict):
            raise CalibrationError(path, f"has no '{key}' mapping", "rerun `precinct calibrate`")
    if not isinstance(doc.get("population") or {}, dict):
        raise CalibrationError(path, "has a 'population' that is not a mapping", "rerun `precinct calibrate`")
    if not (root / SEGMENTS_FILE).is_file():
        raise CalibrationError(root, f"has no {SEGMENTS_FILE}", "rerun `precinct calibrate`")
    city = dict(doc["city"])
    if city.get("path") and not Path(str(city["path"])).is_absolute():
        city["path"] = os.path.normpath(root / str(city["path"]))
    return Calibration(
        folder=root.resolve(),
        city=city,
        crime=dict(doc["crime"]),
        population=dict(doc.get("population") or {}),
        data=dict(doc.get("data") or {}),
        parameters=list(doc.get("parameters") or []),
        validation=dict(doc.get("validation") or {}),
    )


def relative_risk(
    count: NDArray[np.float64], expected: NDArray[np.float64], strength: float
) -> NDArray[np.float64]:
    """Return the Poisson-gamma posterior mean relative risk ``(count + k) / (expected + k)``.

    ``expected`` is scaled to the same total as ``count`` first, so the mean risk is about 1 and only
    where crime falls changes, not how much there is (volume is fitted per type elsewhere).
    """
    c = np.asarray(count, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    total_e = e.sum()
    if total_e > 0:
        e = e * (c.sum() / total_e)
    out: NDArray[np.float64] = (c + strength) / (e + strength)
    return out


def place_multiplier(segments: Any, strength: float) -> NDArray[np.float64]:
    """Return the attractiveness multiplier (mean 1) of a per-segment table's ``count`` and ``expected``."""
    risk = relative_risk(segments["count"].to_numpy(), segments["expected"].to_numpy(), strength)
    out: NDArray[np.float64] = risk / risk.mean()
    return out


def _segment_table(path: str | os.PathLike[str], way_ids: NDArray[np.int64], columns: list[str]) -> Any:
    """Read ``columns`` of a calibration's ``segments.parquet``, checked to list this network's segments in order."""
    import pandas as pd

    try:
        table = pd.read_parquet(path, columns=["osm_way_id", *columns])
    except Exception as exc:  # pyarrow raises several types for missing/corrupt files and columns
        raise CalibrationError(
            path, f"cannot be read as per-segment priors ({exc})", "rerun `precinct calibrate`"
        ) from None
    if len(table) != len(way_ids) or not np.array_equal(table["osm_way_id"].to_numpy(np.int64), way_ids):
        raise CalibrationError(
            path,
            f"lists {len(table):,} segments that do not match this network's {len(way_ids):,}",
            "the priors were made on another map or network type; calibrate this one",
        )
    return table


@dataclass(frozen=True)
class SegmentPriors:
    """What a calibrated city's runs take from its ``segments.parquet``, read once."""

    multiplier: NDArray[np.float64]
    """Per-segment attractiveness multiplier (mean 1): the shrunk relative risk of the fit period."""
    boost_start: NDArray[np.float64] | None
    """Boost per unit ``crime.boost_theta`` the runs start from, or None (run cold)."""


def read_segment_priors(
    path: str | os.PathLike[str], way_ids: NDArray[np.int64], strength: float
) -> SegmentPriors:
    """Read a calibration's ``segments.parquet``: the attractiveness multiplier and the starting boost.

    ``way_ids`` are the network's OSM way ids per segment; the file must list the same segments in
    the same order (it was written on the same map), else CalibrationError. The starting boost is
    ``boost_start`` (:func:`sim.environment.boost_from_history` of the fitted data's last weeks),
    absent from a calibration of incidents dated to the month only, whose days are unknown, and from
    one made before it was kept: those runs start with no boost.
    """
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for missing/corrupt files
        raise CalibrationError(
            path, f"cannot be read as per-segment priors ({exc})", "rerun `precinct calibrate`"
        ) from None
    table = _segment_table(
        path, way_ids, ["count", "expected", *([BOOST_COLUMN] if BOOST_COLUMN in names else [])]
    )
    boost = None
    if BOOST_COLUMN in names:
        boost = table[BOOST_COLUMN].to_numpy(np.float64)
        if not np.all(np.isfinite(boost) & (boost >= 0)):
            raise CalibrationError(path, f"has a {BOOST_COLUMN} that is not finite and >= 0 on every segment",
                                   "rerun `precinct calibrate`")  # fmt: skip
    return SegmentPriors(multiplier=place_multiplier(table, strength), boost_start=boost)
