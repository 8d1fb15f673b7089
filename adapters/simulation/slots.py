"""Event slots: the columnar intermediate form of simulated events (numpy arrays).

A slot is one future event, described by codes rather than strings: the
partnership index, the day since the partnership's first event, the activity,
which organizations and roles take part, which attribute template it carries
and, when it is evidence of an injected deviation, which rule and instance.
:mod:`adapters.simulation.frame` turns the slots of all partnerships into the
canonical input frame in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from engine import schema as s

__all__ = [
    "ACT",
    "AUD_ALL",
    "AUD_SUBSET",
    "A_CONFLICT",
    "A_IDEA",
    "A_NONE",
    "A_OBJ",
    "A_OBJS",
    "A_SHARE",
    "FAC",
    "HI_ALL",
    "HI_EXCL",
    "HI_NEARLY",
    "MED",
    "MGR",
    "PERIOD",
    "PRO",
    "TM",
    "VIS_PRIVATE",
    "VIS_SHARED",
    "WORKSTREAMS",
    "SlotBuffer",
    "expand_counts",
]

ACT: Final = {name: i for i, name in enumerate(s.ACTIVITIES)}

# participant role bits (per partner organization in the event's range)
TM: Final = 1
MGR: Final = 2
PRO: Final = 4
# third-party bits
MED: Final = 1
FAC: Final = 2
# sentinels for the upper end of the organization range, resolved at event time
HI_ALL: Final = -1  # every active partner
HI_EXCL: Final = -2  # fewer than half of the active partners
HI_NEARLY: Final = -3  # all but one when there are 5 or more
# phase code that means "the stage the partnership is in at that day"
PERIOD: Final = -2
# attribute templates
A_NONE: Final = 0
A_IDEA: Final = 1
A_OBJ: Final = 2
A_OBJS: Final = 3
A_SHARE: Final = 4
A_CONFLICT: Final = 5
VIS_SHARED: Final = 1
VIS_PRIVATE: Final = 2
AUD_ALL: Final = 1
AUD_SUBSET: Final = 2
WORKSTREAMS: Final = ("strategy", "contract", "funding", "service_design")

_FIELDS: Final = {
    "p": np.int64,
    "day": np.float64,
    "act": np.int8,
    "phase": np.int8,
    "lo": np.int16,
    "hi": np.int16,
    "roles": np.int8,
    "tp": np.int8,
    "ws": np.int8,
    "akind": np.int8,
    "aval": np.int32,
    "vis": np.int8,
    "aud": np.int8,
    "rule": np.int8,
    "inst": np.int32,
    "ord": np.int8,
}
_DEFAULTS: Final = {
    "phase": -1,
    "tp": 0,
    "ws": -1,
    "akind": A_NONE,
    "aval": 0,
    "vis": 0,
    "aud": 0,
    "rule": -1,
    "inst": -1,
    "ord": 0,
}


def expand_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(owner, within)``: row ``i`` repeated ``counts[i]`` times, and 0.. within.

    Examples
    --------
    >>> import numpy as np
    >>> owner, within = expand_counts(np.array([2, 0, 3]))
    >>> owner.tolist(), within.tolist()
    ([0, 0, 2, 2, 2], [0, 1, 0, 1, 2])
    """
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    within = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, within


@dataclass
class SlotBuffer:
    """Collects blocks of slots (each block a dict of equally long arrays)."""

    blocks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(
        self, p: np.ndarray, day: np.ndarray | float, act: str, **cols: object
    ) -> None:
        """Add one block of slots of activity ``act`` (scalars broadcast).

        Raises
        ------
        KeyError
            ``act`` is not a canonical activity, or a column is unknown.
        """
        p = np.asarray(p)
        size = p.size
        block: dict[str, np.ndarray] = {
            "p": p.astype(np.int64),
            "day": np.broadcast_to(np.asarray(day, dtype=np.float64), size).copy(),
            "act": np.full(size, ACT[act], dtype=np.int8),
        }
        for name, dtype in _FIELDS.items():
            if name in block:
                continue
            value = cols.pop(name, _DEFAULTS.get(name))
            if value is None:
                msg = f"slot column {name!r} has no default and was not given"
                raise KeyError(msg)
            block[name] = np.broadcast_to(np.asarray(value), size).astype(dtype)
        if cols:
            msg = f"unknown slot column(s): {', '.join(cols)}"
            raise KeyError(msg)
        self.blocks.append(block)

    def concat(self) -> dict[str, np.ndarray]:
        """Return all slots as one dict of arrays, sorted by partnership then day."""
        out = {name: np.concatenate([b[name] for b in self.blocks]) for name in _FIELDS}
        # one integer key (partnership, second of the day) sorts faster than a
        # lexsort and matches the timestamps exactly (see frame.py)
        second = np.round(out["day"] * 86400).astype(np.int64)
        order = np.argsort((out["p"] << 28) + second, kind="stable")
        return {name: col[order] for name, col in out.items()}
