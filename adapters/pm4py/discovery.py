"""Model discovery through pm4py behind one small interface.

Two algorithms: the inductive miner (process tree, from which the Petri net
and BPMN follow) and the heuristics miner (a Petri net). ``noise_threshold``
is the inductive miner's noise filter (0 keeps every behaviour, default 0) or
the heuristics miner's dependency threshold (default 0.5): both in [0, 1],
higher means a simpler model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.pm4py.frames import frame_to_pm4py
from adapters.pm4py.models import Pm4pyModel
from engine import schema as s
from engine.errors import AdapterError, ValidationError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "DISCOVERY_ALGORITHMS",
    "Pm4pyDiscoverer",
    "discover_heuristics_model",
    "discover_inductive_model",
]

DISCOVERY_ALGORITHMS = ("inductive", "heuristics")
_KEYS = {
    "activity_key": s.ACTIVITY,
    "timestamp_key": s.TIMESTAMP,
    "case_id_key": s.PARTNERSHIP_ID,
}


def _check_noise(noise_threshold: float) -> None:
    if not 0.0 <= noise_threshold <= 1.0:
        msg = f"noise threshold {noise_threshold} is outside [0, 1]"
        raise ValidationError(msg, field="noise")


def _check_not_empty(frame: pl.DataFrame) -> None:
    if frame.height == 0:
        msg = "no events to discover a model from"
        raise ValidationError(msg, source="<frame>")


def discover_inductive_model(
    frame: pl.DataFrame, *, noise_threshold: float = 0.0
) -> Pm4pyModel:
    """Return the inductive miner's process tree, with its Petri net.

    Parameters
    ----------
    frame
        Events with pm4py's column names.
    noise_threshold
        Inductive miner infrequent noise threshold in [0, 1].

    Raises
    ------
    ValidationError
        For an empty frame or a threshold outside [0, 1].
    AdapterError
        When pm4py fails.
    """
    import pm4py

    _check_noise(noise_threshold)
    _check_not_empty(frame)
    try:
        tree = pm4py.discover_process_tree_inductive(
            frame_to_pm4py(frame), noise_threshold=noise_threshold, **_KEYS
        )
        net, im, fm = pm4py.convert_to_petri_net(tree)
    except Exception as e:  # pm4py raises bare Exceptions
        msg = f"pm4py inductive miner failed: {e}"
        raise AdapterError(msg) from e
    return Pm4pyModel("process_tree", net, im, fm, tree=tree)


def discover_heuristics_model(
    frame: pl.DataFrame, *, noise_threshold: float = 0.5
) -> Pm4pyModel:
    """Return the heuristics miner's Petri net.

    Parameters
    ----------
    frame
        Events with pm4py's column names.
    noise_threshold
        Dependency threshold in [0, 1]: edges with a lower dependency measure
        are dropped as noise.

    Raises
    ------
    ValidationError
        For an empty frame or a threshold outside [0, 1].
    AdapterError
        When pm4py fails.
    """
    import pm4py

    _check_noise(noise_threshold)
    _check_not_empty(frame)
    try:
        net, im, fm = pm4py.discover_petri_net_heuristics(
            frame_to_pm4py(frame), dependency_threshold=noise_threshold, **_KEYS
        )
    except Exception as e:  # pm4py raises bare Exceptions
        msg = f"pm4py heuristics miner failed: {e}"
        raise AdapterError(msg) from e
    return Pm4pyModel("petri_net", net, im, fm)


class Pm4pyDiscoverer:
    """:class:`engine.ports.ModelDiscoverer` through pm4py."""

    def discover_model(
        self,
        frame: pl.DataFrame,
        *,
        algorithm: str,
        noise_threshold: float | None = None,
    ) -> Pm4pyModel:
        """Return the model ``algorithm`` (inductive or heuristics) discovers.

        ``noise_threshold=None`` takes the algorithm's default (0 / 0.5).

        Raises
        ------
        ValidationError
            For an unknown algorithm or a bad threshold.
        """
        if algorithm == "inductive":
            return discover_inductive_model(
                frame,
                noise_threshold=0.0 if noise_threshold is None else noise_threshold,
            )
        if algorithm == "heuristics":
            return discover_heuristics_model(
                frame,
                noise_threshold=0.5 if noise_threshold is None else noise_threshold,
            )
        msg = f"unknown discovery algorithm {algorithm!r}: use inductive or heuristics"
        raise ValidationError(msg, field="algorithm")
