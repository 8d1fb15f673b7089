"""Pictures through Graphviz: DOT text for DFGs and models, ``dot`` renders it.

DFGs become DOT here without pm4py; models use pm4py's visualizers only to
build DOT text. Rendering needs Graphviz's ``dot`` executable (``make
graphviz`` installs it); without it :func:`render_dot` raises an
:class:`AdapterError` saying so, and the caller can keep the DOT text.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

from engine.errors import AdapterError, ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from adapters.pm4py.models import Pm4pyModel
    from engine.dfg import DirectlyFollowsGraph

__all__ = ["PICTURE_FORMATS", "dfg_to_dot", "model_to_dot", "render_dot"]

PICTURE_FORMATS = (".svg", ".png")
_MISSING_DOT = (
    "Graphviz `dot` was not found on PATH, so the picture was skipped: "
    "install Graphviz (`make graphviz`, or apt-get install graphviz), "
    "or write .json instead"
)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def dfg_to_dot(dfg: DirectlyFollowsGraph, *, title: str = "DFG") -> str:
    """Return Graphviz DOT text for ``dfg``: counts and median times on edges.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from engine.dfg import discover_dfg
    >>> lf = pl.LazyFrame({"case:concept:name": ["p", "p"], "concept:name": ["a", "b"],
    ...                    "time:timestamp": [datetime(2020, 1, 1), datetime(2020, 1, 2)]})
    >>> '"a" -> "b" [label="1 (1.0d)"' in dfg_to_dot(discover_dfg(lf))
    True
    """
    lines = [
        f"digraph {_quote(title)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5"];',
        '  "__start__" [shape=circle, label="", fillcolor="#6bbf59", width=0.3];',
        '  "__end__" [shape=doublecircle, label="", fillcolor="#d9534f", width=0.3];',
    ]
    lines.extend(
        f'  "__start__" -> {_quote(a)} [label="{n}", style=dashed];'
        for a, n in dfg.start_activities.iter_rows()
    )
    lines.extend(
        f'  {_quote(a)} -> "__end__" [label="{n}", style=dashed];'
        for a, n in dfg.end_activities.iter_rows()
    )
    for source, target, count, _, median in dfg.edges.iter_rows():
        label = f"{count} ({_format_duration(median)})"
        lines.append(f'  {_quote(source)} -> {_quote(target)} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def model_to_dot(model: Pm4pyModel) -> str:
    """Return Graphviz DOT text for a model (tree, BPMN or Petri net) via pm4py."""
    try:
        if model.tree is not None:
            from pm4py.visualization.process_tree import visualizer as tree_vis

            return str(tree_vis.apply(model.tree).source)
        if model.bpmn is not None:
            from pm4py.visualization.bpmn import visualizer as bpmn_vis

            return str(bpmn_vis.apply(model.bpmn).source)
        from pm4py.visualization.petri_net import visualizer as net_vis

        graph = net_vis.apply(model.net, model.initial_marking, model.final_marking)
        return str(graph.source)
    except Exception as e:  # pm4py raises bare Exceptions
        msg = f"pm4py could not draw the model: {e}"
        raise AdapterError(msg) from e


def render_dot(source: str, path: Path) -> None:
    """Render DOT ``source`` to ``path`` (.svg or .png) with Graphviz ``dot``.

    Raises
    ------
    ValidationError
        When ``path`` is not .svg or .png.
    AdapterError
        When ``dot`` is missing or fails.
    """
    suffix = path.suffix.lower()
    if suffix not in PICTURE_FORMATS:
        msg = f"unknown picture format {suffix!r}: use .svg or .png"
        raise ValidationError(msg, source=str(path))
    dot = shutil.which("dot")
    if dot is None:
        raise AdapterError(_MISSING_DOT)
    try:
        subprocess.run(
            [dot, f"-T{suffix[1:]}", "-o", str(path)],
            input=source.encode("utf-8"),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        detail = getattr(e, "stderr", b"") or b""
        msg = (
            f"Graphviz dot failed on {path}: {detail.decode(errors='replace').strip()}"
        )
        raise AdapterError(msg) from e
