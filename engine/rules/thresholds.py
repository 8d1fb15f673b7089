r"""The numbers the deviation rules use, with the defaults of docs/rules.md.

Users override any of them in a TOML file with one ``[thresholds]`` table::

    [thresholds]
    stall_days = 365
    exclusive_share = 0.4

Examples
--------
>>> thresholds_from_toml("[thresholds]\nstall_days = 365").stall_days
365
>>> RuleThresholds().conflict_days
120
"""

from __future__ import annotations

import tomllib

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from engine.errors import ConfigError

__all__ = ["RuleThresholds", "thresholds_from_toml"]


class RuleThresholds(BaseModel):
    """Thresholds of the seven deviation rules (docs/rules.md).

    Parameters
    ----------
    stall_days
        ``stalled_idea_to_action``: days from plan (or idea) to its first action.
    feedback_gap_days
        ``missing_top_manager_feedback``: longest execution gap without a
        feedback meeting.
    exclusive_share
        ``exclusive_decision``: the share of active partners a decision needs.
    exclusive_min_orgs
        ``exclusive_decision``: the rule applies from this many active partners.
    conflict_days
        ``unresolved_conflict``: days a conflict may stay open.
    hidden_days
        ``hidden_objective``: days for an objective to be agreed or shared.
    commitment_window_days
        ``commitment_loss``: length of the tumbling windows.
    commitment_drop
        ``commitment_loss``: relative fall in active actors that fires.
    commitment_min_actors
        ``commitment_loss``: the previous window needs at least this many actors.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stall_days: int = Field(default=180, gt=0)
    feedback_gap_days: int = Field(default=180, gt=0)
    exclusive_share: float = Field(default=0.5, gt=0, le=1)
    exclusive_min_orgs: int = Field(default=3, ge=1)
    conflict_days: int = Field(default=120, gt=0)
    hidden_days: int = Field(default=180, gt=0)
    commitment_window_days: int = Field(default=90, gt=0)
    commitment_drop: float = Field(default=0.3, gt=0, lt=1)
    commitment_min_actors: int = Field(default=3, ge=1)


def thresholds_from_toml(text: str, *, source: str = "<rules>") -> RuleThresholds:
    """Return the thresholds of a rules TOML document (defaults for absent keys).

    Parameters
    ----------
    text
        TOML text with an optional ``[thresholds]`` table and nothing else.
    source
        Where the text came from, for error messages (a file name).

    Raises
    ------
    ConfigError
        The text is not TOML, has other top-level keys, or a threshold is
        unknown, of the wrong type or out of range.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = f"{source}: not valid TOML: {e}"
        raise ConfigError(msg) from e
    unknown = sorted(set(document) - {"thresholds"})
    if unknown:
        msg = f"{source}: unknown top-level key(s) {unknown}; expected a [thresholds] table"
        raise ConfigError(msg)
    table = document.get("thresholds", {})
    if not isinstance(table, dict):
        msg = f"{source}: 'thresholds' must be a table"
        raise ConfigError(msg)
    try:
        return RuleThresholds.model_validate(table, strict=True)
    except PydanticValidationError as e:
        problems = "; ".join(
            f"thresholds.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in e.errors()
        )
        msg = f"{source}: {problems}"
        raise ConfigError(msg) from e
