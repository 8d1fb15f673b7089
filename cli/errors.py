"""The one table from exceptions to exit codes (see STYLE.md).

0 ok; 1 a check found deviations or ``verify`` found a broken chain;
2 usage error or invalid input; 3 store, adapter or environment failure.
"""

from __future__ import annotations

from engine.errors import (
    AdapterError,
    ConfigError,
    DuplicateEventError,
    NotFoundError,
    PartnermineError,
    StoreError,
    ValidationError,
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_FAILURE = 3

# Most specific first: the first matching class decides the exit code.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (ValidationError, EXIT_INPUT),
    (ConfigError, EXIT_INPUT),
    (NotFoundError, EXIT_INPUT),
    # an event id re-used with other content is bad input, not a broken store
    (DuplicateEventError, EXIT_INPUT),
    (StoreError, EXIT_FAILURE),
    (AdapterError, EXIT_FAILURE),
    (PartnermineError, EXIT_FAILURE),
    (OSError, EXIT_FAILURE),
)


def exit_code_for(error: BaseException) -> int:
    """Return the exit code for an error raised by a command."""
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    raise error
