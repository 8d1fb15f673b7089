"""partnermine's pure core: the event model, the log's rules, mining kernels.

The engine imports only the standard library, polars and pydantic; it does no
IO and never reads the clock (callers pass ``now``/``as_of`` and a
:class:`~engine.ports.Clock`). Every mining, rule and indicator kernel takes a
frame of whole partnerships and returns a frame.

Submodules hold the rest of the API (``engine.schema`` for column names,
``engine.partners``, ``engine.windows``, ...); this package re-exports the entry
points most callers need.
"""

from __future__ import annotations

from engine.alerts import AlertRules
from engine.alignment import IndicatorConfig
from engine.dfg import DirectlyFollowsGraph, discover_dfg
from engine.drift import detect_drift
from engine.errors import (
    AdapterError,
    ConcurrencyError,
    ConfigError,
    DuplicateEventError,
    IntegrityError,
    NotFoundError,
    PartnermineError,
    PartnermineWarning,
    StoreError,
    ValidationError,
)
from engine.events import NewEvent, Participant, RecordedEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.memory_store import MemoryEventStore
from engine.phases import PhaseFlow, discover_phase_flow
from engine.ports import AlertSink, AppendReport, Checkpoint, Clock, EventStore
from engine.recording import BrokenLink, VerifyReport, verify_event_frame
from engine.rules import RuleThresholds, detect_deviations
from engine.upcasting import upcast_event_frame
from engine.validation import find_invalid_rows, normalize_input_frame
from engine.variants import discover_variants
from engine.watching import evaluate_alerts, run_watch_step
from engine.windows import LifecycleStages, NamedPeriods, RollingWindows, parse_periods

__all__ = [
    "AdapterError",
    "AlertRules",
    "AlertSink",
    "AppendReport",
    "BrokenLink",
    "Checkpoint",
    "Clock",
    "ConcurrencyError",
    "ConfigError",
    "DirectlyFollowsGraph",
    "DuplicateEventError",
    "EventStore",
    "IndicatorConfig",
    "IntegrityError",
    "LifecycleStages",
    "MemoryEventStore",
    "NamedPeriods",
    "NewEvent",
    "NotFoundError",
    "Participant",
    "PartnermineError",
    "PartnermineWarning",
    "PhaseFlow",
    "RecordedEvent",
    "RollingWindows",
    "RuleThresholds",
    "StoreError",
    "ValidationError",
    "VerifyReport",
    "compute_indicators",
    "detect_deviations",
    "detect_drift",
    "discover_dfg",
    "discover_phase_flow",
    "discover_variants",
    "evaluate_alerts",
    "find_invalid_rows",
    "new_events_to_frame",
    "normalize_input_frame",
    "parse_periods",
    "run_watch_step",
    "upcast_event_frame",
    "verify_event_frame",
]
