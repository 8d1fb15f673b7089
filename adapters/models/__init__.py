"""Model files shipped with partnermine (read through ``adapters.pm4py.models``).

``reference_lifecycle.pnml`` is the reference lifecycle of DOMAIN.md, built by
``adapters.pm4py.models.build_reference_net`` from ``engine.models``.
Regenerate it with ``python -m adapters.pm4py.models``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REFERENCE_LIFECYCLE_PNML"]

REFERENCE_LIFECYCLE_PNML = Path(__file__).with_name("reference_lifecycle.pnml")
