"""Deterministic authenticated encryption of short personal fields (AES-SIV).

The cipher is AES-SIV (RFC 5297) from the ``cryptography`` package
(``cryptography.hazmat.primitives.ciphers.aead.AESSIV``), with a 512-bit key,
that is AES-256-SIV: a standard, reviewed, deterministic AEAD instead of a
home-made construction. The sealed form is ``SIV || ciphertext``: a 16-byte
synthetic IV (the CMAC of the plaintext, also the authentication tag), then
the CTR-mode ciphertext, as long as the UTF-8 plaintext.

Deterministic on purpose: one person's name always encrypts to the same token
under that person's key, so indicators that count distinct actors still work
on encrypted logs, and keep working after the key is deleted (the token then
stays as an anonymous, unlinkable id). SIV is the mode designed for this
(misuse-resistant: a repeated plaintext reveals only that it repeats, and each
person has a key of their own, so equal tokens reveal nothing across people).

``cryptography`` is the optional extra ``partnermine[privacy]``; it is imported
when a field is sealed or opened, not when this module is imported.

Examples
--------
>>> key = bytes(KEY_BYTES)
>>> sealed = seal_text("Ann", key=key)
>>> open_text(sealed, key=key)
'Ann'
>>> seal_text("Ann", key=key) == sealed, len(sealed) == IV_BYTES + 3
(True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from engine.errors import AdapterError, ConfigError, IntegrityError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

__all__ = ["IV_BYTES", "KEY_BYTES", "open_text", "seal_text"]

IV_BYTES: Final = 16
KEY_BYTES: Final = 64
"""Bytes of a person's key: 512 bits, i.e. AES-256-SIV (two AES-256 keys)."""


def _aead_for(key: bytes) -> AESSIV:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    except ImportError as e:
        msg = "encrypting personal fields needs the `cryptography` package: pip install 'partnermine[privacy]'"
        raise AdapterError(msg) from e
    if len(key) != KEY_BYTES:
        msg = f"a personal-field key must have {KEY_BYTES} bytes (AES-256-SIV), not {len(key)}"
        raise ConfigError(msg)
    return AESSIV(key)


def seal_text(plaintext: str, *, key: bytes) -> bytes:
    """Return ``SIV || ciphertext`` of ``plaintext`` under ``key`` (AES-256-SIV).

    Raises
    ------
    ConfigError
        ``key`` does not have :data:`KEY_BYTES` bytes.
    AdapterError
        The ``cryptography`` package is not installed.
    """
    return _aead_for(key).encrypt(plaintext.encode(), None)


def open_text(sealed: bytes, *, key: bytes) -> str:
    """Return the plaintext of ``sealed``.

    Raises
    ------
    IntegrityError
        The ciphertext was altered or truncated, or ``key`` is not the key it
        was sealed with.
    ConfigError
        ``key`` does not have :data:`KEY_BYTES` bytes.
    AdapterError
        The ``cryptography`` package is not installed.
    """
    aead = _aead_for(key)  # first: it reports a missing package as AdapterError
    from cryptography.exceptions import InvalidTag

    try:
        data = aead.decrypt(sealed, None)
    except InvalidTag as e:
        msg = "an encrypted personal field does not authenticate under its key"
        raise IntegrityError(msg) from e
    try:
        return data.decode()
    except UnicodeDecodeError as e:  # authenticated, so only a non-UTF-8 sealer
        msg = "an encrypted personal field is not UTF-8 text"
        raise IntegrityError(msg) from e
