"""Column names, vocabulary and the one schema of the canonical event frame.

The frame uses pm4py's column names where they exist (``case:concept:name``,
``concept:name``, ``time:timestamp``, ``org:resource``) so that a frame read
from the store can be handed to pm4py as it is.

Two frames exist:

* the *input* frame (:data:`INPUT_SCHEMA`): events as written by a user or an
  importer, before the store has assigned anything;
* the *event* frame (:data:`EVENT_SCHEMA`): recorded events, with the
  store-assigned ``version``, ``position``, ``recorded_at`` and hashes.

Examples
--------
>>> from engine.schema import EVENT_SCHEMA, ACTIVITY
>>> EVENT_SCHEMA[ACTIVITY]
String
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = [
    "ACTIVITIES",
    "ACTIVITY",
    "ACTIVITY_STAGE",
    "ACTOR",
    "ATTRIBUTES",
    "CONTENT_HASH",
    "CURRENT_SCHEMA_VERSION",
    "DECISION_ACTIVITIES",
    "ENGINE_ACTIVITIES",
    "EVENT_COLUMNS",
    "EVENT_ID",
    "EVENT_SCHEMA",
    "HASH",
    "INPUT_COLUMNS",
    "INPUT_SCHEMA",
    "ORGANIZATION",
    "PARTICIPANTS",
    "PARTICIPANT_DTYPE",
    "PARTNERSHIP_ID",
    "PHASE",
    "PHASES",
    "POSITION",
    "RECORDED_AT",
    "ROLES",
    "SCHEMA_VERSION",
    "THIRD_PARTY_ROLES",
    "TIMESTAMP",
    "TZ_OFFSET",
    "VERSION",
    "WORKSTREAM",
    "normalize_term",
]

# --- column names -----------------------------------------------------------
EVENT_ID: Final = "event_id"
PARTNERSHIP_ID: Final = "case:concept:name"
VERSION: Final = "version"
POSITION: Final = "position"
ACTIVITY: Final = "concept:name"
TIMESTAMP: Final = "time:timestamp"
TZ_OFFSET: Final = "tz_offset_s"
RECORDED_AT: Final = "recorded_at"
PHASE: Final = "phase"
ACTOR: Final = "org:resource"
ORGANIZATION: Final = "organization"
PARTICIPANTS: Final = "participants"
WORKSTREAM: Final = "workstream"
ATTRIBUTES: Final = "attributes"
SCHEMA_VERSION: Final = "schema_version"
CONTENT_HASH: Final = "content_hash"
HASH: Final = "hash"

CURRENT_SCHEMA_VERSION: Final = 2

# --- vocabulary (DOMAIN.md) -------------------------------------------------
PHASES: Final = ("negotiation", "commitment", "execution")

ROLES: Final = (
    "top_manager",
    "manager",
    "professional",
    "specialist",
    "facilitator",
    "mediator",
    "researcher",
    "other",
)
_SEPARATORS: Final = re.compile(r"[\s\-]+")


def normalize_term(text: str, vocabulary: Collection[str]) -> str:
    """Return the member of a closed ``vocabulary`` that ``text`` spells, else ``text``.

    Case, surrounding spaces and space or hyphen separators are ignored, so a
    hand-encoded ``"Top Manager"`` is the role ``top_manager``.

    >>> normalize_term(" Top-Manager ", ROLES), normalize_term("boss", ROLES)
    ('top_manager', 'boss')
    """
    key = _SEPARATORS.sub("_", text.strip().lower())
    return key if key in vocabulary else text


# Organizations seen only in these roles are third parties, never partners.
THIRD_PARTY_ROLES: Final = frozenset({"facilitator", "mediator", "researcher"})

# Canonical activity -> lifecycle stage; None means "any stage".
ACTIVITY_STAGE: Final = MappingProxyType(
    {
        "initiate_partnership": "negotiation",
        "explore_expectations": "negotiation",
        "propose_objective": "negotiation",
        "negotiate_terms": "negotiation",
        "define_values": "commitment",
        "assess_needs": "commitment",
        "propose_idea": "commitment",
        "agree_objectives": "commitment",
        "agree_action_plan": "commitment",
        "sign_agreement": "commitment",
        "start_action": "execution",
        "report_progress": "execution",
        "share_information": None,
        "feedback_meeting": None,
        "raise_conflict": None,
        "mediate_conflict": None,
        "resolve_conflict": None,
        "member_joined": None,
        "member_left": None,
        "alert_raised": None,
        # written by the privacy adapter when a person's key is deleted
        "personal_data_erased": None,
    }
)
ACTIVITIES: Final = tuple(ACTIVITY_STAGE)

# Written by partnermine itself, not by the partners: never mined, never a
# partnership's activity for rules or indicators.
ENGINE_ACTIVITIES: Final = frozenset({"alert_raised", "personal_data_erased"})

# Decisions for `exclusive_decision` and `inclusiveness` (DOMAIN.md).
DECISION_ACTIVITIES: Final = frozenset(
    {"agree_objectives", "agree_action_plan", "sign_agreement", "negotiate_terms"}
)

# --- frame schemas ----------------------------------------------------------
PARTICIPANT_DTYPE: Final = pl.Struct(
    {"actor": pl.String, "organization": pl.String, "role": pl.String}
)
_UTC_US: Final = pl.Datetime("us", "UTC")

_INPUT_FIELDS: dict[str, pl.DataType] = {
    EVENT_ID: pl.String(),
    PARTNERSHIP_ID: pl.String(),
    ACTIVITY: pl.String(),
    TIMESTAMP: _UTC_US,
    TZ_OFFSET: pl.Int32(),
    PHASE: pl.String(),
    ACTOR: pl.String(),
    ORGANIZATION: pl.String(),
    PARTICIPANTS: pl.List(PARTICIPANT_DTYPE),
    WORKSTREAM: pl.String(),
    ATTRIBUTES: pl.String(),
    SCHEMA_VERSION: pl.Int16(),
}
INPUT_SCHEMA: Final = pl.Schema(_INPUT_FIELDS)
INPUT_COLUMNS: Final = tuple(INPUT_SCHEMA.names())

_EVENT_FIELDS: dict[str, pl.DataType] = {
    POSITION: pl.Int64(),
    PARTNERSHIP_ID: pl.String(),
    VERSION: pl.Int64(),
    **{k: v for k, v in _INPUT_FIELDS.items() if k != PARTNERSHIP_ID},
    RECORDED_AT: _UTC_US,
    CONTENT_HASH: pl.String(),
    HASH: pl.String(),
}
EVENT_SCHEMA: Final = pl.Schema(_EVENT_FIELDS)
EVENT_COLUMNS: Final = tuple(EVENT_SCHEMA.names())
