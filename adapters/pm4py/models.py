"""Process models through pm4py: the model type, PNML/BPMN files, the reference net.

:class:`Pm4pyModel` implements :class:`engine.ports.ProcessModel`: a Petri net
with its markings (always present, conformance needs it), plus the process
tree, BPMN diagram or heuristics net it came from when there is one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.models import REFERENCE_LIFECYCLE_PNML
from engine.errors import AdapterError, NotFoundError, ValidationError
from engine.models import REFERENCE_LIFECYCLE, LifecycleModel

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "MODEL_FORMATS",
    "Pm4pyModel",
    "build_reference_net",
    "load_reference_model",
    "read_model",
    "summarize_net",
]

MODEL_FORMATS = (".pnml", ".bpmn", ".json", ".svg", ".png")


@dataclass(frozen=True, slots=True)
class Pm4pyModel:
    """A pm4py process model: a Petri net and what it was derived from.

    Attributes
    ----------
    kind
        ``petri_net``, ``process_tree``, ``bpmn`` or ``heuristics_net``: the
        model's native form (the net is derived from it when it is not a net).
    net, initial_marking, final_marking
        The accepting Petri net used for conformance and PNML.
    tree, bpmn
        The process tree or BPMN diagram, when the model has one.
    """

    kind: str
    net: Any
    initial_marking: Any
    final_marking: Any
    tree: Any = None
    bpmn: Any = None

    def write_model(self, path: Path) -> None:
        """Write the model; ``path``'s extension picks the format.

        ``.pnml`` (Petri net), ``.bpmn``, ``.json`` (see :func:`summarize_net`),
        ``.svg`` / ``.png`` (Graphviz; :class:`AdapterError` when ``dot`` is
        missing).

        Raises
        ------
        ValidationError
            For an unknown extension.
        """
        import pm4py

        suffix = path.suffix.lower()
        if suffix == ".pnml":
            pm4py.write_pnml(
                self.net, self.initial_marking, self.final_marking, str(path)
            )
        elif suffix == ".bpmn":
            # pm4py lays the diagram out with Graphviz; without it, no layout.
            layout = shutil.which("dot") is not None
            pm4py.write_bpmn(self.to_bpmn(), str(path), auto_layout=layout)
        elif suffix == ".json":
            text = json.dumps(summarize_net(self), indent=2, ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
        elif suffix in {".svg", ".png"}:
            from adapters.pm4py.render import model_to_dot, render_dot

            render_dot(model_to_dot(self), path)
        else:
            msg = f"unknown model format {suffix!r}; use one of {', '.join(MODEL_FORMATS)}"
            raise ValidationError(msg, source=str(path))

    def to_bpmn(self) -> Any:
        """Return the model as a pm4py BPMN diagram (converted when needed)."""
        import pm4py

        if self.bpmn is not None:
            return self.bpmn
        if self.tree is not None:
            return pm4py.convert_to_bpmn(self.tree)
        return pm4py.convert_to_bpmn(self.net, self.initial_marking, self.final_marking)


def summarize_net(model: Pm4pyModel) -> dict[str, object]:
    """Return the model as a JSON-ready dict.

    ``{"kind", "process_tree" (text or null), "places": [name],
    "transitions": [{name, label}], "arcs": [{source, target}],
    "initial_marking": {place: tokens}, "final_marking": {...}}``.
    """
    net = model.net
    return {
        "kind": model.kind,
        "process_tree": None if model.tree is None else str(model.tree),
        "places": sorted(p.name for p in net.places),
        "transitions": sorted(
            ({"name": t.name, "label": t.label} for t in net.transitions),
            key=lambda t: str(t["name"]),
        ),
        "arcs": sorted(
            ({"source": a.source.name, "target": a.target.name} for a in net.arcs),
            key=lambda a: (a["source"], a["target"]),
        ),
        "initial_marking": {p.name: n for p, n in model.initial_marking.items()},
        "final_marking": {p.name: n for p, n in model.final_marking.items()},
    }


def read_model(path: Path) -> Pm4pyModel:
    """Return the model in a PNML or BPMN file.

    Raises
    ------
    NotFoundError
        When ``path`` does not exist.
    ValidationError
        When the extension is not ``.pnml``/``.bpmn`` or pm4py cannot parse it.
    """
    import pm4py
    from lxml import etree

    if not path.exists():
        msg = f"no model file at {path}"
        raise NotFoundError(msg)
    suffix = path.suffix.lower()
    try:
        # Parse first: on malformed XML pm4py leaks the open file.
        etree.parse(str(path))
        if suffix == ".pnml":
            net, im, fm = pm4py.read_pnml(str(path))
            return Pm4pyModel("petri_net", net, im, fm)
        if suffix == ".bpmn":
            bpmn = pm4py.read_bpmn(str(path))
            net, im, fm = pm4py.convert_to_petri_net(bpmn)
            return Pm4pyModel("bpmn", net, im, fm, bpmn=bpmn)
    except Exception as e:  # pm4py raises bare Exceptions and lxml errors
        msg = f"cannot read the model: {e}"
        raise ValidationError(msg, source=str(path)) from e
    msg = f"unknown model format {suffix!r}: use .pnml or .bpmn"
    raise ValidationError(msg, source=str(path))


def load_reference_model() -> Pm4pyModel:
    """Return the shipped reference lifecycle (DOMAIN.md) as a Petri net."""
    if not REFERENCE_LIFECYCLE_PNML.exists():
        msg = f"the reference lifecycle model is missing: {REFERENCE_LIFECYCLE_PNML}"
        raise AdapterError(msg)
    return read_model(REFERENCE_LIFECYCLE_PNML)


def build_reference_net(lifecycle: LifecycleModel = REFERENCE_LIFECYCLE) -> Pm4pyModel:
    """Return the Petri net of ``lifecycle``; it is what the shipped PNML holds.

    A stage is a pair of places ``<stage>_ready`` / ``<stage>_done``: each
    activity of the stage moves a token from ready to done, a silent
    transition returns it for the next activity, and silent transitions move
    it from ``done`` to the next stage's ``ready`` along the allowed
    transitions (including execution -> negotiation). So every stage needs
    at least one of its activities before the next stage. Any-stage
    activities loop on a parallel place ``any``, marked from start to end.
    A partnership may end after any stage.
    """
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    net = PetriNet("reference_lifecycle")
    places = {
        name: PetriNet.Place(name)
        for name in (
            "source",
            "sink",
            "any",
            *(f"{st}_{x}" for st in lifecycle.stages for x in ("ready", "done")),
        )
    }
    net.places.update(places.values())

    def add_transition(
        name: str, label: str | None, ins: list[str], outs: list[str]
    ) -> None:
        transition = PetriNet.Transition(name, label)
        net.transitions.add(transition)
        for place in ins:
            add_arc_from_to(places[place], transition, net)
        for place in outs:
            add_arc_from_to(transition, places[place], net)

    for stage in sorted(lifecycle.start_stages):
        add_transition(
            f"tau_start_{stage}", None, ["source"], [f"{stage}_ready", "any"]
        )
    for stage in lifecycle.stages:
        for activity in lifecycle.stage_activities[stage]:
            add_transition(activity, activity, [f"{stage}_ready"], [f"{stage}_done"])
        add_transition(f"tau_more_{stage}", None, [f"{stage}_done"], [f"{stage}_ready"])
        add_transition(f"tau_end_{stage}", None, [f"{stage}_done", "any"], ["sink"])
    for source, target in sorted(lifecycle.transitions):
        add_transition(
            f"tau_{source}_to_{target}", None, [f"{source}_done"], [f"{target}_ready"]
        )
    for activity in lifecycle.any_stage_activities:
        add_transition(activity, activity, ["any"], ["any"])
    return Pm4pyModel(
        "petri_net", net, Marking({places["source"]: 1}), Marking({places["sink"]: 1})
    )


if __name__ == "__main__":  # regenerate the shipped reference lifecycle
    build_reference_net().write_model(REFERENCE_LIFECYCLE_PNML)
