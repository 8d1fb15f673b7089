"""Pin the public API: a rename or removal here is a breaking change."""

from __future__ import annotations

import engine

ENGINE_API = {
    "AdapterError", "AlertRules", "AlertSink", "AppendReport", "BrokenLink",
    "Checkpoint", "Clock", "ConcurrencyError", "ConfigError", "DirectlyFollowsGraph",
    "DuplicateEventError", "EventStore", "IndicatorConfig", "IntegrityError",
    "LifecycleStages", "MemoryEventStore", "NamedPeriods", "NewEvent", "NotFoundError",
    "Participant", "PartnermineError", "PartnermineWarning", "PhaseFlow",
    "RecordedEvent", "RollingWindows", "RuleThresholds", "StoreError",
    "ValidationError", "VerifyReport", "compute_indicators", "detect_deviations",
    "detect_drift", "discover_dfg", "discover_phase_flow", "discover_variants",
    "evaluate_alerts", "find_invalid_rows", "new_events_to_frame",
    "normalize_input_frame", "parse_periods", "run_watch_step", "upcast_event_frame",
    "verify_event_frame",
}  # fmt: skip


def test_engine_public_api_is_pinned():
    assert set(engine.__all__) == ENGINE_API
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_every_error_derives_from_the_root():
    for name in engine.__all__:
        obj = getattr(engine, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, engine.PartnermineError)
