"""The one exception tree of partnermine.

Every error the engine, the adapters or the CLI raises on purpose derives from
:class:`PartnermineError`::

    PartnermineError
    ├── StoreError                 the event store refused or failed an operation
    │   ├── ConcurrencyError       expected_version did not match the stream
    │   ├── DuplicateEventError    an event id exists with different content
    │   └── IntegrityError         the hash chain or append-only guarantee is broken
    ├── ValidationError            bad input: file, row/line, field and reason
    ├── NotFoundError              a partnership, model or scenario that does not exist
    ├── ConfigError                a bad configuration (TOML, mapping, thresholds)
    └── AdapterError               a third-party library or service failed

    PartnermineWarning(UserWarning)  something the user should know, not fatal

Only ``cli/`` turns these into exit codes (see ``cli/errors.py``).
"""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "ConcurrencyError",
    "ConfigError",
    "DuplicateEventError",
    "IntegrityError",
    "NotFoundError",
    "PartnermineError",
    "PartnermineWarning",
    "StoreError",
    "ValidationError",
]


class PartnermineError(Exception):
    """Root of every error partnermine raises on purpose."""


class StoreError(PartnermineError):
    """The event store refused or failed an operation."""


class ConcurrencyError(StoreError):
    """An append's ``expected_version`` did not match the stream's version.

    Parameters
    ----------
    stream_id
        The partnership whose stream was appended to.
    expected
        The version the caller expected the stream to be at.
    actual
        The version the stream is actually at.
    """

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        msg = (
            f"partnership {stream_id!r}: expected version {expected}, "
            f"but the stream is at version {actual}"
        )
        super().__init__(msg)


class DuplicateEventError(StoreError):
    """An event id is already stored with different content."""

    def __init__(self, event_id: str, reason: str = "different content") -> None:
        self.event_id = event_id
        msg = f"event {event_id} is already stored with {reason}"
        super().__init__(msg)


class IntegrityError(StoreError):
    """The log's integrity guarantees are broken (hash chain, append-only)."""


class ValidationError(PartnermineError):
    """Invalid input, located as precisely as the source allows.

    Parameters
    ----------
    reason
        What is wrong.
    source
        The file (or ``"<stdin>"``, ``"<frame>"``) the input came from.
    row
        1-based row (CSV, Parquet, JSON Lines, frames) or event index.
    line
        1-based line in a text file, when known (XES, JSON Lines).
    field
        The offending field or column.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        row: int | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.row = row
        self.line = line
        self.field = field
        where = [
            part
            for part in (
                source,
                f"line {line}" if line is not None else None,
                f"row {row}" if row is not None else None,
                f"field {field!r}" if field is not None else None,
            )
            if part is not None
        ]
        msg = f"{', '.join(where)}: {reason}" if where else reason
        super().__init__(msg)


class NotFoundError(PartnermineError):
    """Something named by the user does not exist."""


class ConfigError(PartnermineError):
    """A configuration file or value is invalid."""


class AdapterError(PartnermineError):
    """A third-party library or external service failed; wraps its error."""


class PartnermineWarning(UserWarning):
    """A non-fatal condition the user should know about."""
