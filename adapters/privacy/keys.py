"""Per-person encryption keys, kept in a sidecar SQLite file outside the log.

The log is append-only and hash-chained, so personal data in it can never be
deleted; instead each person's fields are encrypted under a key of their own
that lives here, and erasing a person deletes their key (crypto-shredding).
The file maps a keyed digest of the name (never the name itself) to a random
key id and a 512-bit key (AES-256-SIV, see :mod:`adapters.privacy.cipher`).
``secure_delete`` overwrites deleted rows on disk.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "keys.db"
>>> keys = PersonKeyStore(path, create=True)
>>> key_id, key = keys.keys_for(["Ann"])["Ann"]
>>> keys.key_id_of("Ann") == key_id, len(key)
(True, 64)
>>> keys.delete_key(key_id), keys.key_id_of("Ann")
(True, None)
>>> keys.close()
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from typing import TYPE_CHECKING, Final

from adapters.privacy.cipher import KEY_BYTES
from engine.errors import NotFoundError, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = ["PersonKeyStore"]

_CHUNK: Final = 500
_DDL: Final = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS person_keys (
    key_id TEXT PRIMARY KEY,
    subject BLOB NOT NULL UNIQUE,
    key BLOB NOT NULL
);
"""


class PersonKeyStore:
    """A sidecar file of per-person keys.

    Parameters
    ----------
    path
        The key file (keep it apart from the log, and back it up apart).
    create
        Create the file when missing.

    Raises
    ------
    NotFoundError
        The file does not exist and ``create`` is false.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.exists():
            msg = f"no key file at {path}"
            raise NotFoundError(msg)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.executescript(_DDL)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('lookup', ?)",
                (secrets.token_bytes(32),),
            )
            row = self._db.execute(
                "SELECT value FROM meta WHERE name = 'lookup'"
            ).fetchone()
        except sqlite3.Error as e:
            msg = f"key file {path}: {e}"
            raise StoreError(msg) from e
        self._lookup: bytes = row[0]

    def _subject(self, name: str) -> bytes:
        return hmac.digest(self._lookup, name.encode(), "sha256")

    def keys_for(self, names: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """Return ``name -> (key id, key)``, creating keys for new names."""
        subjects = {self._subject(n): n for n in dict.fromkeys(names)}
        found: dict[str, tuple[str, bytes]] = {}
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for subject, key_id, key in self._rows_of(list(subjects)):
                    found[subjects[subject]] = (key_id, key)
                fresh = [
                    (secrets.token_hex(8), subject, secrets.token_bytes(KEY_BYTES))
                    for subject, name in subjects.items()
                    if name not in found
                ]
                self._db.executemany(
                    "INSERT INTO person_keys (key_id, subject, key) VALUES (?, ?, ?)",
                    fresh,
                )
        except sqlite3.Error as e:
            msg = f"key file: cannot store keys: {e}"
            raise StoreError(msg) from e
        found.update({subjects[subject]: (kid, key) for kid, subject, key in fresh})
        return found

    def _rows_of(self, subjects: list[bytes]) -> Iterable[tuple[bytes, str, bytes]]:
        for i in range(0, len(subjects), _CHUNK):
            chunk = subjects[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(
                f"SELECT subject, key_id, key FROM person_keys WHERE subject IN ({marks})",
                chunk,
            )

    def keys_by_id(self, key_ids: Sequence[str]) -> dict[str, bytes]:
        """Return ``key id -> key`` for the ids whose key still exists."""
        out: dict[str, bytes] = {}
        ids = list(dict.fromkeys(key_ids))
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key_id, key FROM person_keys WHERE key_id IN ({marks})", chunk
            )
            out.update(dict(rows))
        return out

    def key_id_of(self, name: str) -> str | None:
        """Return the key id of a person, None when they have no key (any more)."""
        row = self._db.execute(
            "SELECT key_id FROM person_keys WHERE subject = ?", (self._subject(name),)
        ).fetchone()
        return str(row[0]) if row else None

    def delete_key(self, key_id: str) -> bool:
        """Delete a key for good; return whether it existed."""
        try:
            cursor = self._db.execute(
                "DELETE FROM person_keys WHERE key_id = ?", (key_id,)
            )
        except sqlite3.Error as e:
            msg = f"key file: cannot delete key {key_id}: {e}"
            raise StoreError(msg) from e
        return cursor.rowcount > 0

    def close(self) -> None:
        """Close the key file."""
        self._db.close()
