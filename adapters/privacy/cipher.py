"""Deterministic authenticated encryption of short personal fields (stdlib only).

A synthetic-IV construction (SIV, RFC 5297's idea) over HMAC-SHA256, so that no
third-party cryptography package is needed:

* ``enc_key = HMAC(key, "partnermine/enc")``, ``mac_key = HMAC(key, "partnermine/mac")``;
* ``iv = HMAC(mac_key, plaintext)[:16]`` (the synthetic IV, also the tag);
* the keystream is ``HMAC(enc_key, iv || counter)`` blocks (HMAC-SHA256 as a
  PRF in counter mode); ``ciphertext = plaintext XOR keystream``;
* decryption recomputes the tag and refuses a mismatch.

Deterministic on purpose: one person's name always encrypts to the same token
under that person's key, so indicators that count distinct actors still work
on encrypted logs, and keep working after the key is deleted (the token then
stays as an anonymous, unlinkable id). Each person has a key of their own, so
equal tokens reveal nothing across people.

Examples
--------
>>> key = bytes(32)
>>> sealed = seal_text("Ann", key=key)
>>> open_text(sealed, key=key)
'Ann'
>>> seal_text("Ann", key=key) == sealed
True
"""

from __future__ import annotations

import hmac
from typing import Final

from engine.errors import IntegrityError

__all__ = ["IV_BYTES", "open_text", "seal_text"]

IV_BYTES: Final = 16
_BLOCK: Final = 32


def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    enc = hmac.digest(key, b"partnermine/enc", "sha256")
    mac = hmac.digest(key, b"partnermine/mac", "sha256")
    return enc, mac


def _xor_keystream(data: bytes, *, enc_key: bytes, iv: bytes) -> bytes:
    blocks = (len(data) + _BLOCK - 1) // _BLOCK
    stream = b"".join(
        hmac.digest(enc_key, iv + i.to_bytes(4, "big"), "sha256") for i in range(blocks)
    )[: len(data)]
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
    return mixed.to_bytes(len(data), "big")


def seal_text(plaintext: str, *, key: bytes) -> bytes:
    """Return ``iv || ciphertext`` of ``plaintext`` under ``key``."""
    enc_key, mac_key = _subkeys(key)
    data = plaintext.encode()
    iv = hmac.digest(mac_key, data, "sha256")[:IV_BYTES]
    return iv + _xor_keystream(data, enc_key=enc_key, iv=iv)


def open_text(sealed: bytes, *, key: bytes) -> str:
    """Return the plaintext of ``sealed``.

    Raises
    ------
    IntegrityError
        The ciphertext was altered, or ``key`` is not the key it was sealed with.
    """
    enc_key, mac_key = _subkeys(key)
    iv, body = sealed[:IV_BYTES], sealed[IV_BYTES:]
    data = _xor_keystream(body, enc_key=enc_key, iv=iv)
    if not hmac.compare_digest(hmac.digest(mac_key, data, "sha256")[:IV_BYTES], iv):
        msg = "an encrypted personal field does not authenticate under its key"
        raise IntegrityError(msg)
    return data.decode()
