"""On-disk cache of processed street networks, keyed by the OSM file's content hash and the load options.

Entries are ``.npz`` files holding the arrays of :class:`StreetNetwork` and a JSON ``meta`` string
(no pickles), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import osmnx as ox

from sim.errors import CacheError
from sim.network._types import _ARRAY_FIELDS, StreetNetwork, _readonly

# Bump when the processing changes, so stale cache entries are never reused. The version is part
# of every network's content hash (and so of every run's), so data the model never reads (street
# names) is added without a bump: an entry without it fails to read (KeyError) and is rebuilt.
LOADER_VERSION = "3"  # 3: places per segment


def default_cache_dir() -> Path:
    """Return the network cache directory: ``$PRECINCT_CACHE_DIR`` or ``~/.cache/precinct/networks``."""
    env = os.environ.get("PRECINCT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "precinct" / "networks"


def _hash_file(src: Path, network_type: str, min_nodes: int) -> str:
    """Return the cache key: sha256 of the file's bytes, the options, the loader and OSMnx versions."""
    h = hashlib.sha256()
    with src.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    h.update(f"|{network_type}|{min_nodes}|{LOADER_VERSION}|osmnx{ox.__version__}".encode())
    return h.hexdigest()[:32]


def _ensure_writable(cache_root: Path) -> None:
    """Create ``cache_root`` if needed and check a file can be written there, else raise CacheError."""
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_root, prefix=".probe-"):
            pass
    except OSError as exc:
        msg = (
            f"{cache_root}: network cache directory is not writable ({exc.strerror or exc}); "
            "set PRECINCT_CACHE_DIR (or cache_dir=) to a writable directory, or pass use_cache=False"
        )
        raise CacheError(msg) from exc


def _write_cache(cache_file: Path, net: StreetNetwork) -> None:
    """Write ``net`` to ``cache_file`` atomically (temporary file, fsync, rename)."""
    meta = {
        "highway_classes": list(net.highway_classes), "street_names": list(net.street_names), "crs": net.crs, "network_type": net.network_type,
        "content_hash": net.content_hash, "stats": net.stats, "place_kinds": list(net.place_kinds),
        "places_found": net.places_found, "places_dropped": net.places_dropped,
    }  # fmt: skip
    arrays = {name: getattr(net, name) for name in _ARRAY_FIELDS}
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=f".{cache_file.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, cache_file)  # atomic: readers see the old entry or the complete new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(cache_file: Path, src: Path) -> StreetNetwork:
    """Read a cache entry back into a read-only network whose ``source`` is ``src``."""
    with np.load(cache_file, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if tuple(meta["place_kinds"]) != StreetNetwork.place_kinds:
            msg = f"{cache_file}: cached place kinds {meta['place_kinds']} differ from {StreetNetwork.place_kinds}"
            raise ValueError(msg)
        arrays = {name: _readonly(data[name]) for name in _ARRAY_FIELDS}
    return StreetNetwork(
        **arrays,
        highway_classes=tuple(meta["highway_classes"]),
        street_names=tuple(meta["street_names"]),
        crs=meta["crs"],
        network_type=meta["network_type"],
        source=str(src),
        content_hash=meta["content_hash"],
        places_found={k: int(v) for k, v in meta["places_found"].items()},
        places_dropped={k: int(v) for k, v in meta["places_dropped"].items()},
        stats=dict(meta["stats"]),
    )
