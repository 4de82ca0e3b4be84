"""Errors of the incident reader: each names the file, the field and what was expected, on one line."""

from __future__ import annotations

from sim.errors import PrecinctError

__all__ = [
    "IncidentColumnError",
    "IncidentCoordinateError",
    "IncidentFileError",
    "IncidentMappingError",
    "NoUsableIncidentsError",
]


class IncidentFileError(PrecinctError, ValueError):
    """A crime-incident file cannot be read as incidents.

    Parameters
    ----------
    path
        The file at fault.
    field
        The column, setting or part of the file at fault (``"file"`` for the file as a whole).
    problem
        What is wrong, in a few words.
    expected
        What was expected instead, or what to do about it.
    """

    def __init__(self, path: object, field: str, problem: str, expected: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        self.expected = expected
        message = f"{self.path}: {field}: {problem}; expected {expected}"
        super().__init__(" ".join(message.split()))

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str]]:
        """Rebuild from the constructor arguments, so the error survives pickling."""
        return (type(self), (self.path, self.field, self.problem, self.expected))


class IncidentColumnError(IncidentFileError):
    """A column the mapping names is not in the file, or the mapping lacks a column it needs."""


class IncidentCoordinateError(IncidentFileError):
    """The coordinates cannot be placed on the map: latitude and longitude swapped, or all off the map."""


class IncidentMappingError(IncidentFileError):
    """An offence mapping (YAML or override) names an offence class that does not exist."""


class NoUsableIncidentsError(IncidentFileError):
    """Every row of the file was rejected; ``report`` holds the counts by reason."""

    report: object = None
