r"""Load an activity mapping TOML: ``[activities] "Old name" = "canonical_name"``.

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     p = pathlib.Path(d) / "m.toml"
...     _ = p.write_text('[activities]\n"Kick-off" = "initiate_partnership"\n')
...     load_activity_mapping(p)
{'Kick-off': 'initiate_partnership'}
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from engine.errors import ConfigError

__all__ = ["load_activity_mapping"]


def load_activity_mapping(path: Path | str) -> dict[str, str]:
    """Return the ``[activities]`` table of a mapping TOML (old name -> new name).

    Raises
    ------
    ConfigError
        The file is missing, not TOML, has no ``[activities]`` table, or maps a
        name to something other than a non-empty string.
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        msg = f"{path}: cannot read the activity mapping: {e.strerror or e}"
        raise ConfigError(msg) from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        msg = f"{path}: not a valid TOML file: {e}"
        raise ConfigError(msg) from e
    table = document.get("activities")
    if not isinstance(table, dict):
        msg = f'{path}: no [activities] table (expected [activities] "Old name" = "new_name")'
        raise ConfigError(msg)
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v]
    if bad:
        msg = f"{path}: [activities] {bad[0]!r} must map to a non-empty string"
        raise ConfigError(msg)
    return {str(k): str(v) for k, v in table.items()}
