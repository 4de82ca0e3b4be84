"""Read a CSV, Parquet or GeoJSON file a chunk of rows at a time, as string-valued columns.

CSV is streamed with pandas' C parser (quoted fields may hold newlines); a byte-order mark is
skipped; a file that is not UTF-8 is read again as Latin-1 and the report says so. Parquet is
streamed by row group batches with pyarrow. GeoJSON is one JSON document, so it is read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.incidents._errors import IncidentFileError
from sim.incidents._source import GEOJSON_LAT, GEOJSON_LON

__all__ = ["TableReader", "physical_lines"]

LATIN1 = "latin-1"


class TableReader:
    """Header and chunks of one incident file.

    Parameters
    ----------
    path
        The file.
    kind
        ``csv``, ``parquet`` or ``geojson``.
    """

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self.encoding = "utf-8-sig"
        self.note = ""
        self._geojson: pd.DataFrame | None = None
        self._raw_header: list[str] = []
        if not path.is_file():
            raise IncidentFileError(path, "file", "no such file", "an existing CSV, Parquet or GeoJSON file")
        if path.stat().st_size == 0:
            raise IncidentFileError(path, "file", "the file is empty (0 bytes)",
                                    "a header row followed by one row per incident")  # fmt: skip
        if kind == "csv":
            with path.open("rb") as fh:
                head = fh.read(4)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                self.encoding = "utf-16"
                self.note = "the file is UTF-16 (byte-order mark): read as UTF-16"

    def fall_back_to_latin1(self) -> bool:
        """Switch to Latin-1 after a UTF-8 decoding error; False when already there (give up)."""
        if self.kind != "csv" or self.encoding == LATIN1:
            return False
        self.encoding = LATIN1
        self.note = "the file is not valid UTF-8: read as Latin-1 (ISO-8859-1); check accented names"
        return True

    def header(self) -> list[str]:
        """Return the column names (GeoJSON: property names and ``geometry.lon``/``geometry.lat``)."""
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            try:
                return [str(n) for n in pq.ParquetFile(self.path).schema_arrow.names]
            except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
                raise IncidentFileError(self.path, "file", f"not a Parquet file ({_first_line(exc)})",
                                        "a Parquet file, or rename a CSV to .csv") from None  # fmt: skip
        if self.kind == "geojson":
            return [*self._read_geojson().columns]
        while True:
            try:
                frame = pd.read_csv(self.path, nrows=0, encoding=self.encoding, dtype=str)
            except UnicodeDecodeError:
                if self.fall_back_to_latin1():
                    continue
                raise
            except pd.errors.EmptyDataError:
                raise IncidentFileError(self.path, "file", "no header row (the file holds only blank lines)",
                                        "a header row followed by one row per incident") from None  # fmt: skip
            except (pd.errors.ParserError, ValueError) as exc:
                raise IncidentFileError(self.path, "header", f"cannot parse the CSV header ({_first_line(exc)})",
                                        "a comma-separated header row") from None  # fmt: skip
            self._raw_header = [str(c) for c in frame.columns]
            return [c.strip() for c in self._raw_header]

    def chunks(
        self, columns: list[str], chunk_rows: int, *, numeric: frozenset[str] = frozenset()
    ) -> Iterator[pd.DataFrame]:
        """Yield the given columns, ``chunk_rows`` rows at a time.

        CSV values are strings, except the ``numeric`` columns (coordinates), whose type pandas
        infers per chunk: floats when every value is a number (much faster than strings), strings
        when some are not; blanks are missing values. Parquet and GeoJSON columns keep their types
        (numbers, timestamps). The parsers accept every one of these.

        Raises
        ------
        UnicodeDecodeError
            A CSV row is not valid in the current encoding (call :meth:`fall_back_to_latin1`, re-read).
        IncidentFileError
            A CSV row cannot be parsed (e.g. more fields than the header).
        """
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=chunk_rows, columns=columns):
                yield batch.to_pandas()
            return
        if self.kind == "geojson":
            frame = self._read_geojson()[columns]
            for lo in range(0, len(frame), chunk_rows):
                yield frame.iloc[lo : lo + chunk_rows]
            return
        wanted = set(columns)
        raw = {name.strip(): name for name in self._raw_header}
        as_text = {raw[c]: str for c in columns if c not in numeric and c in raw}
        reader = pd.read_csv(
            self.path, usecols=lambda c: str(c).strip() in wanted, dtype=as_text, keep_default_na=False,
            na_values=[""], chunksize=chunk_rows, encoding=self.encoding,
        )  # fmt: skip
        try:
            with reader:
                for chunk in reader:
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    yield chunk
        except pd.errors.ParserError as exc:
            raise IncidentFileError(self.path, "rows", f"malformed CSV ({_first_line(exc)})",
                                    "one comma-separated row per incident, as many fields as the header") from None  # fmt: skip

    def _read_geojson(self) -> pd.DataFrame:
        if self._geojson is not None:
            return self._geojson
        try:
            doc: Any = json.loads(self.path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IncidentFileError(self.path, "file", f"not valid GeoJSON ({_first_line(exc)})",
                                    "a GeoJSON FeatureCollection of Point features") from None  # fmt: skip
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise IncidentFileError(self.path, "features", "no FeatureCollection 'features' list",
                                    "a GeoJSON FeatureCollection of Point features") from None  # fmt: skip
        props = pd.DataFrame.from_records([f.get("properties") or {} for f in features])
        lon = np.full(len(features), np.nan)
        lat = np.full(len(features), np.nan)
        for i, f in enumerate(features):  # one document, read once: a loop over features is fine here
            geom = f.get("geometry") or {}
            coords = geom.get("coordinates")
            if geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
                lon[i], lat[i] = _num(coords[0]), _num(coords[1])
        props[GEOJSON_LON] = lon
        props[GEOJSON_LAT] = lat
        self._geojson = props
        return props


def physical_lines(
    path: Path, records: NDArray[np.int64], *, block_bytes: int = 1 << 23
) -> NDArray[np.int64]:
    """Return the 1-based line on which each record starts (record 0 is the header).

    Quoted fields may hold newlines, so a record can span lines; a newline ends a record only
    outside quotes (an even number of ``"`` before it). The file is scanned in blocks up to the
    last record asked for, with NumPy, never a Python loop per byte.

    Parameters
    ----------
    path
        An uncompressed CSV in an ASCII-compatible encoding (UTF-8, Latin-1).
    records
        Record numbers, ascending.
    block_bytes
        Bytes scanned at a time.
    """
    out = np.ones(records.size, dtype=np.int64)  # record 0, the header, starts on line 1
    need = np.flatnonzero(records > 0)
    # record k >= 1 starts on the line after the k-th record-ending newline
    j = 0
    ends_seen = lines_seen = 0
    inside = False
    with path.open("rb") as fh:
        while j < need.size:
            b = np.frombuffer(fh.read(block_bytes), dtype=np.uint8)
            if b.size == 0:
                break
            quotes = np.cumsum(b == 34) + int(inside)
            newline = b == 10
            end_lines = lines_seen + np.cumsum(newline)[newline & (quotes % 2 == 0)]
            while j < need.size and records[need[j]] <= ends_seen + end_lines.size:
                out[need[j]] = end_lines[records[need[j]] - ends_seen - 1] + 1
                j += 1
            ends_seen += end_lines.size
            lines_seen += int(np.count_nonzero(newline))
            inside = bool(quotes[-1] % 2)
    return out


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__
