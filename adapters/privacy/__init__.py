"""Privacy: keyed pseudonyms and crypto-shredding of personal fields."""

from __future__ import annotations

from adapters.privacy.keys import PersonKeyStore
from adapters.privacy.pseudonyms import pseudonym_of, pseudonymize_frame
from adapters.privacy.shredding import (
    ErasureReport,
    encrypt_personal_fields,
    erase_person,
    reveal_personal_fields,
)

__all__ = [
    "ErasureReport",
    "PersonKeyStore",
    "encrypt_personal_fields",
    "erase_person",
    "pseudonym_of",
    "pseudonymize_frame",
    "reveal_personal_fields",
]
