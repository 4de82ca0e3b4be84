"""The project's exceptions: each names the file or setting at fault, what was wrong and what to do."""

from __future__ import annotations


class PrecinctError(Exception):
    """Base class of every error Precinct raises on purpose for bad input or configuration."""


class FileError(PrecinctError, ValueError):
    """A file or folder cannot be used: names it, says what is wrong and what to do."""

    def __init__(self, path: object, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}; {fix}")

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        """Rebuild from the constructor arguments, so the error survives pickling to and from workers."""
        return (type(self), (self.path, self.problem, self.fix))


class NetworkFileError(FileError):
    """An OpenStreetMap file cannot be turned into a street network."""


class CacheError(PrecinctError, OSError):
    """The on-disk network cache cannot be used."""


class ConfigError(PrecinctError, ValueError):
    """A configuration value is outside what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config {key}={value!r} is not allowed: expected {allowed}")

    def __reduce__(self) -> tuple[type, tuple[str, object, str]]:
        """Rebuild from the constructor arguments, so the error survives pickling to and from workers."""
        return (type(self), (self.key, self.value, self.allowed))


class ResultsError(PrecinctError, ValueError):
    """A results directory or file is missing, partial or corrupt."""


class ScenarioError(FileError):
    """A training scenario file (conf/scenario/*.yaml) has a bad field: names the file, field and what is allowed."""

    def __init__(self, path: object, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(path, f"{field}={value!r} is not allowed", f"expected {expected}")

    def __reduce__(self) -> tuple[type, tuple[str, str, object, str]]:  # type: ignore[override]
        """Rebuild from the constructor arguments, so the error survives pickling."""
        return (type(self), (self.path, self.field, self.value, self.expected))


class DecisionError(PrecinctError, ValueError):
    """A trainee's decision breaks the scenario's rules (too many officers, a street not on the map...)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"decision refused: {field}={value!r}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, object, str]]:
        """Rebuild from the constructor arguments, so the error survives pickling."""
        return (type(self), (self.field, self.value, self.reason))
