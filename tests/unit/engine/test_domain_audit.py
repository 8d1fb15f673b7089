"""An independent audit of the rules and indicators against DOMAIN.md's words.

Each test builds a small hand-made log through the public interface
(``NewEvent`` -> ``new_events_to_frame`` -> ``detect_deviations`` /
``compute_indicators``), computes the expected value by hand from DOMAIN.md
and asserts it. Tests marked ``xfail(strict=True)`` are findings: the code
reads DOMAIN.md differently from a careful reader (the reason says how).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from engine import schema as s
from engine.alignment import IndicatorConfig
from engine.events import NewEvent, new_events_to_frame
from engine.indicators import compute_indicators
from engine.rules import RuleThresholds, detect_deviations
from engine.windows import LifecycleStages, RollingWindows, parse_periods
from tests.conftest import make_event

T0 = datetime(2020, 1, 1, tzinfo=UTC)
ALL_2020 = parse_periods("all:2020-01-01..2020-12-31")


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ev(
    n: int,
    activity: str,
    at: float,
    parts: tuple[tuple[str, str, str], ...] = (),
    *,
    org: str | None = None,
    actor: str | None = None,
    phase: str | None = None,
    workstream: str | None = None,
    pid: str = "p",
    **attributes: object,
) -> NewEvent:
    return make_event(
        n,
        pid,
        activity,
        timestamp=day(at),
        participants=parts,
        organization=org,
        actor=actor,
        phase=phase,
        workstream=workstream,
        attributes=attributes,
    )


def eid(n: int) -> str:
    return str(make_event(n).event_id)


def person(org: str, role: str = "manager", k: int = 0) -> tuple[str, str, str]:
    return (f"{org.lower()}.{role}{k}", org, role)


def team(*orgs: str, role: str = "manager") -> tuple[tuple[str, str, str], ...]:
    return tuple(person(o, role) for o in orgs)


def deviations(
    events: list[NewEvent], rule: str, *, as_of: datetime | None = None
) -> pl.DataFrame:
    return detect_deviations(
        new_events_to_frame(events),
        thresholds=RuleThresholds(),
        rules=[rule],
        as_of=as_of,
    )


def one_window(events: list[NewEvent], **kwargs: object) -> dict:
    rows = compute_indicators(new_events_to_frame(events), windows=ALL_2020, **kwargs)
    assert rows.height == 1
    return rows.row(0, named=True)


# --- stage inference and the activity mapping --------------------------------


def test_phase_is_inferred_from_the_canonical_activity():
    # DOMAIN: phase "inferred from the activity when absent"; execution before
    # any commitment is a deviation.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "start_action", 10, team("A", "B"), idea_id="i1"),
        ev(3, "sign_agreement", 20, team("A", "B")),
    ]
    found = deviations(events, "phase_order_violation")
    assert found["evidence"].to_list() == [[eid(2)]]
    assert found["time"].to_list() == [day(10)]


def test_rules_infer_the_phase_of_a_frame_without_phases():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "start_action", 10, team("A", "B"), idea_id="i1"),
        ev(3, "sign_agreement", 20, team("A", "B")),
    ]
    frame = new_events_to_frame(events).with_columns(
        pl.lit(None, pl.String).alias(s.PHASE)
    )
    found = detect_deviations(
        frame, thresholds=RuleThresholds(), rules=["phase_order_violation"]
    )
    assert found["evidence"].to_list() == [[eid(2)]]


def test_user_activity_mapping_is_applied_before_stage_inference(tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    csv = tmp_path / "log.csv"
    csv.write_text(
        "case,activity,timestamp\n"
        "p,Kick-off,2020-01-01T00:00:00+00:00\n"
        "p,Pilot launched,2020-02-01T00:00:00+00:00\n"
        "p,Contract signed,2020-03-01T00:00:00+00:00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        "[activities]\n"
        '"Kick-off" = "initiate_partnership"\n'
        '"Pilot launched" = "start_action"\n'
        '"Contract signed" = "sign_agreement"\n',
        encoding="utf-8",
    )
    store = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store, "init"]).exit_code == 0
    ingested = runner.invoke(
        cli,
        [
            "--store",
            store,
            "ingest",
            str(csv),
            "--case",
            "case",
            "--activity",
            "activity",
            "--timestamp",
            "timestamp",
            "--mapping",
            str(mapping),
        ],
    )
    assert ingested.exit_code == 0, ingested.output
    checked = runner.invoke(cli, ["--store", store, "check", "--format", "json"])
    assert checked.exit_code == 1, checked.output
    assert '"phase_order_violation"' in checked.output
    assert "Execution step start_action" in checked.output


# --- phase_order_violation --------------------------------------------------


def test_commitment_before_negotiation_and_cycling_back_is_allowed():
    events = [
        ev(1, "define_values", 0, team("A", "B")),
        ev(2, "explore_expectations", 5, team("A", "B")),
        ev(3, "start_action", 10, team("A", "B"), idea_id="i"),
        ev(4, "negotiate_terms", 20, team("A", "B")),  # renegotiation: allowed
        ev(5, "start_action", 30, team("A", "B"), idea_id="j"),
    ]
    found = deviations(events, "phase_order_violation")
    assert found["evidence"].to_list() == [[eid(1)]]


# --- stalled_idea_to_action -------------------------------------------------


def test_stalled_plan_without_action_fires_at_anchor_plus_180_days():
    events = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "report_progress", 181, team("A", "B")),
    ]
    found = deviations(events, "stalled_idea_to_action")
    assert found["evidence"].to_list() == [[eid(1)]]
    assert found["time"].to_list() == [day(180)]


def test_stalled_late_action_cites_the_plan_and_the_late_start():
    late = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "start_action", 181, team("A", "B"), idea_id="i"),
    ]
    found = deviations(late, "stalled_idea_to_action")
    assert found["evidence"].to_list() == [[eid(1), eid(2)]]
    in_time = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "start_action", 180, team("A", "B"), idea_id="i"),
    ]
    assert deviations(in_time, "stalled_idea_to_action").is_empty()


def test_stalled_does_not_fire_when_every_partner_has_left():
    # "none by the end of the log while the partnership is active"
    events = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "member_left", 50, org="A"),
        ev(3, "member_left", 60, org="B"),
        ev(4, "share_information", 200, (person("R", "researcher"),), audience="all"),
    ]
    assert deviations(events, "stalled_idea_to_action").is_empty()


def test_stalled_idea_proposed_long_before_its_pilot_fires():
    events = [
        ev(1, "propose_idea", 0, team("A", "B"), idea_id="i"),
        ev(2, "agree_action_plan", 250, team("A", "B"), idea_id="i"),
        ev(3, "start_action", 300, team("A", "B"), idea_id="i"),
    ]
    found = deviations(events, "stalled_idea_to_action")
    assert found.height == 1
    assert eid(1) in found["evidence"][0]


# --- missing_top_manager_feedback -------------------------------------------


def test_final_meeting_without_top_managers_fires_third_parties_excused():
    # Seed 000: the final meeting had the HR specialist, OH nurse and physician,
    # the customer manager and researchers -- no top manager.
    events = [
        ev(1, "initiate_partnership", 0, team("EM", "SP", role="top_manager")),
        ev(
            2,
            "start_action",
            10,
            (person("EM", "specialist"), person("SP", "professional")),
        ),
        ev(
            3,
            "feedback_meeting",
            100,
            (
                person("EM", "specialist"),
                person("SP", "professional"),
                person("SP", "manager"),
                person("RES", "researcher"),
                person("RES", "researcher", 1),
            ),
        ),
        ev(
            4,
            "feedback_meeting",
            150,
            (*team("EM", "SP", role="top_manager"), person("RES", "researcher")),
        ),
    ]
    found = deviations(events, "missing_top_manager_feedback")
    assert found["evidence"].to_list() == [[eid(3)]]
    assert found["message"][0].endswith("EM, SP")


def test_meeting_without_phase_after_a_pilot_is_in_execution():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", role="top_manager")),
        ev(2, "feedback_meeting", 5, team("A", "B")),  # negotiation: not checked
        ev(3, "start_action", 10, team("A", "B"), idea_id="i"),
        ev(4, "feedback_meeting", 20, team("A", "B")),  # execution by inference
    ]
    found = deviations(events, "missing_top_manager_feedback")
    assert found["evidence"].to_list() == [[eid(4)]]


def test_execution_without_feedback_for_more_than_180_days_fires():
    events = [
        ev(1, "sign_agreement", 0, team("A", "B")),
        ev(2, "start_action", 10, team("A", "B"), idea_id="i"),
        ev(3, "report_progress", 200, team("A", "B")),
    ]
    found = deviations(events, "missing_top_manager_feedback")
    assert found["evidence"].to_list() == [[eid(2)]]
    assert found["time"].to_list() == [day(190)]


def test_execution_running_exactly_180_days_without_feedback_fires():
    events = [
        ev(1, "sign_agreement", 0, team("A", "B")),
        ev(2, "start_action", 10, team("A", "B"), idea_id="i"),
        ev(3, "report_progress", 190, team("A", "B")),
    ]
    found = deviations(events, "missing_top_manager_feedback")
    assert found["evidence"].to_list() == [[eid(2)]]


def test_renegotiation_is_not_execution_without_feedback():
    events = [
        ev(1, "sign_agreement", 0, team("A", "B")),
        ev(2, "start_action", 10, team("A", "B"), idea_id="i"),
        ev(3, "negotiate_terms", 20, team("A", "B")),
        ev(4, "explore_expectations", 150, team("A", "B")),
        ev(5, "negotiate_terms", 300, team("A", "B")),
    ]
    assert deviations(events, "missing_top_manager_feedback").is_empty()


# --- exclusive_decision ------------------------------------------------------


@pytest.mark.parametrize(
    ("orgs", "present", "fires"),
    [
        (("A", "B", "C", "D"), ("A",), True),  # 1 < 2
        (("A", "B", "C", "D"), ("A", "B"), False),  # 2 is half: not fewer
        (("A", "B", "C"), ("A",), True),  # 1 < 1.5
        (("A", "B"), ("A",), False),  # a partnership of 2 organizations
    ],
)
def test_exclusive_decision_fewer_than_half_in_three_plus(orgs, present, fires):
    events = [
        ev(1, "initiate_partnership", 0, team(*orgs)),
        ev(2, "negotiate_terms", 10, (*team(*present), person("M", "mediator"))),
    ]
    found = deviations(events, "exclusive_decision")
    assert found["evidence"].to_list() == ([[eid(2)]] if fires else [])


def test_exclusive_decision_third_party_is_neither_present_nor_counted():
    # 3 partners; A decides with a facilitator and a mediator: 1 of 3.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C")),
        ev(
            2,
            "agree_action_plan",
            10,
            (person("A"), person("F", "facilitator"), person("M", "mediator")),
            idea_id="i",
        ),
        ev(3, "sign_agreement", 11, team("A", "B")),  # 2 of 3: fine
    ]
    found = deviations(events, "exclusive_decision")
    assert found["evidence"].to_list() == [[eid(2)]]


def test_exclusive_decision_after_a_partner_left():
    # 4 partners, D leaves: 1 of the 3 active is fewer than half.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "member_left", 5, org="D"),
        ev(3, "sign_agreement", 10, team("A", "B")),  # 2 of 3: fine
        ev(4, "sign_agreement", 11, team("A")),  # 1 of 3: fires
    ]
    found = deviations(events, "exclusive_decision")
    assert found["evidence"].to_list() == [[eid(4)]]


def test_reading_a_partner_is_active_from_its_first_appearance():
    # Documents the reading (docs/rules.md): C first appears after the
    # decision, so the decision had 1 of the 2 active partners and the
    # partnership was not yet one of 3 organizations at that time.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "negotiate_terms", 1, team("A")),
        ev(3, "explore_expectations", 2, team("A", "B", "C")),
    ]
    assert deviations(events, "exclusive_decision").is_empty()


# --- unresolved_conflict -----------------------------------------------------


def test_unresolved_conflict_late_and_open():
    events = [
        ev(1, "raise_conflict", 0, team("A", "B"), conflict_id="c1"),
        ev(2, "raise_conflict", 1, team("A", "B"), conflict_id="c2"),
        ev(3, "resolve_conflict", 120, team("A", "B"), conflict_id="c1"),  # in time
        ev(4, "resolve_conflict", 122, team("A", "B"), conflict_id="c2"),  # late
        ev(5, "raise_conflict", 10, team("A", "B")),  # no id: nothing resolves it
        ev(6, "report_progress", 131, team("A", "B")),
    ]
    found = deviations(events, "unresolved_conflict").sort("time")
    assert found["evidence"].to_list() == [[eid(2), eid(4)], [eid(5)]]
    assert found["time"].to_list() == [day(121), day(130)]


def test_unresolved_conflict_observed_exactly_n_days_later_fires():
    events = [
        ev(1, "raise_conflict", 0, team("A", "B"), conflict_id="c1"),
        ev(2, "report_progress", 120, team("A", "B")),
    ]
    assert deviations(events, "unresolved_conflict").height == 1


# --- hidden_objective ----------------------------------------------------------


def test_hidden_objective_private_or_never_shared_nor_agreed():
    events = [
        ev(
            1,
            "propose_objective",
            0,
            team("A"),
            objective_id="o1",
            visibility="private",
        ),
        ev(2, "propose_objective", 1, team("B"), objective_id="o2"),  # never: fires
        ev(3, "propose_objective", 2, team("B"), objective_id="o3"),
        ev(4, "agree_objectives", 100, team("A", "B"), objective_ids=["o3"]),
        ev(5, "propose_objective", 3, team("A"), objective_id="o4"),
        ev(
            6,
            "share_information",
            50,
            team("A", "B"),
            objective_id="o4",
            audience="all",
        ),
        ev(
            7, "propose_objective", 4, team("A"), objective_id="o5", visibility="shared"
        ),
        ev(8, "report_progress", 200, team("A", "B")),
    ]
    found = deviations(events, "hidden_objective").sort("time")
    assert found["evidence"].to_list() == [[eid(1)], [eid(2)]]
    assert found["time"].to_list() == [day(0), day(181)]


# --- commitment_loss -----------------------------------------------------------


def test_commitment_loss_more_left_than_joined():
    left_first = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C")),
        ev(2, "member_left", 10, org="C"),
    ]
    found = deviations(left_first, "commitment_loss")
    assert found["evidence"].to_list() == [[eid(2)]]
    joined_first = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C")),
        ev(2, "member_joined", 5, org="D"),
        ev(3, "member_left", 10, org="C"),
    ]
    assert deviations(joined_first, "commitment_loss").is_empty()


@pytest.mark.parametrize(("after", "fires"), [(7, True), (8, False)])
def test_commitment_loss_participants_fall_by_30_percent(after, fires):
    ten = tuple(person("A" if k % 2 else "B", "professional", k) for k in range(10))
    events = [
        ev(1, "explore_expectations", 0, ten),
        ev(2, "explore_expectations", 100, ten[:after]),
        ev(3, "report_progress", 200, ten[:2]),
    ]
    found = deviations(events, "commitment_loss")
    windows = found.filter(pl.col("message").str.starts_with("Active participants"))
    assert windows["time"].to_list() == ([day(90)] if fires else [])


def test_member_left_removes_the_partner_from_the_top_manager_check():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", role="top_manager")),
        ev(2, "start_action", 10, team("A", "B", "C"), idea_id="i"),
        ev(3, "member_left", 20, org="C"),
        ev(4, "feedback_meeting", 30, team("A", "B", role="top_manager")),
        ev(5, "member_joined", 40, org="C"),
        ev(6, "feedback_meeting", 50, team("A", "B", role="top_manager")),
    ]
    found = deviations(events, "missing_top_manager_feedback")
    assert found["evidence"].to_list() == [[eid(6)]]


# --- indicators ------------------------------------------------------------------


def test_inclusiveness_participation_equality_and_mode():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "negotiate_terms", 10, (*team("A", "B"), person("F", "facilitator"))),
        ev(3, "sign_agreement", 20, team("A", "B", "C", "D")),
        ev(4, "share_information", 30, team("A"), audience="all"),
    ]
    row = one_window(events)
    # decisions: 2/4 and 4/4
    assert row["inclusiveness"] == pytest.approx(0.75)
    # participations A 4, B 3, C 2, D 2 (F is a third party):
    # Gini = sum|xi-xj| / (2 n^2 mean) = 2*(1+2+2+1+1+0) / (2*16*2.75)
    assert row["participation_equality"] == pytest.approx(1 - 14 / 88)
    assert row["transparency"] == 1.0
    assert row["mode"] == "inclusive"


def test_mode_at_the_exact_thresholds_is_inclusive():
    # inclusiveness 3/5 = 0.6, transparency 1/2 = 0.5
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D", "E")),
        ev(2, "sign_agreement", 10, team("A", "B", "C")),
        ev(3, "share_information", 20, team("A"), audience="all"),
        ev(4, "share_information", 21, team("A"), audience="subset"),
    ]
    row = one_window(events)
    assert row["inclusiveness"] == pytest.approx(0.6)
    assert row["transparency"] == pytest.approx(0.5)
    assert row["mode"] == "inclusive"


def test_no_decision_means_null_inclusiveness_and_null_mode():
    row = one_window([ev(1, "explore_expectations", 0, team("A", "B"))])
    assert row["inclusiveness"] is None
    assert row["mode"] is None
    assert row["transparency"] is None
    assert row["objective_convergence"] is None
    assert row["idea_to_action_days"] is None
    assert row["top_manager_feedback"] is None
    assert row["conflict_mitigation"] == 1.0  # 1 when none raised


def test_conflict_objective_idea_and_feedback_indicators():
    tops = team("A", "B", role="top_manager")
    events = [
        ev(1, "raise_conflict", 0, team("A", "B"), conflict_id="c1"),
        ev(2, "raise_conflict", 1, team("A", "B"), conflict_id="c2"),
        ev(3, "resolve_conflict", 5, team("A", "B"), conflict_id="c1"),
        ev(
            4, "propose_objective", 2, team("A"), objective_id="o1", visibility="shared"
        ),
        ev(
            5,
            "propose_objective",
            3,
            team("B"),
            objective_id="o2",
            visibility="private",
        ),
        ev(6, "agree_objectives", 9, team("A", "B"), objective_ids=["o1"]),
        ev(7, "agree_action_plan", 10, team("A", "B"), idea_id="i1"),
        ev(8, "agree_action_plan", 20, team("A", "B"), idea_id="i2"),
        ev(9, "start_action", 110, team("A", "B"), idea_id="i1"),
        ev(10, "start_action", 40, team("A", "B"), idea_id="i2"),
        ev(11, "feedback_meeting", 120, tops),
        ev(12, "feedback_meeting", 130, (tops[0], person("B"))),
    ]
    row = one_window(events)
    assert row["conflict_mitigation"] == pytest.approx(0.5)
    assert row["objective_convergence"] == pytest.approx(0.5)
    assert row["idea_to_action_days"] == pytest.approx(60.0)  # median(100, 20)
    assert row["top_manager_feedback"] == pytest.approx(0.5)
    assert row["transparency"] == pytest.approx(0.5)  # only the objective part
    # inclusiveness 1 (3 decisions, both partners), equality 1 (every event both
    # or one each: A 11, B 11), commitment 1 (first window)
    expected = (1 + 1 + 0.5 + 0.5 + 1 + 0.5 + 0.5) / 7
    assert row["alignment_score"] == pytest.approx(expected)


def test_alignment_score_weights_leave_null_indicators_out():
    config = IndicatorConfig.from_toml("[weights]\ninclusiveness = 3.0")
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "negotiate_terms", 10, team("A", "B")),
    ]
    row = one_window(events, config=config)
    # inclusiveness 0.5 (w 3); equality: A 2, B 2, C 1, D 1 -> Gini 1/6;
    # conflict_mitigation 1; commitment 1; the others are null (left out).
    equality = 1 - (2 * (0 + 1 + 1 + 1 + 1 + 0)) / (2 * 16 * 1.5)
    assert row["participation_equality"] == pytest.approx(equality)
    expected = (3 * 0.5 + equality + 1 + 1) / 6
    assert row["alignment_score"] == pytest.approx(expected)


def test_commitment_is_actors_over_the_max_with_the_previous_window():
    periods = parse_periods("I:2020-01-01..2020-03-31,II:2020-04-01..2020-06-30")
    four = tuple(person("A", "professional", k) for k in range(2)) + tuple(
        person("B", "professional", k) for k in range(2)
    )
    events = [
        ev(1, "explore_expectations", 0, four),
        ev(2, "report_progress", 100, four[:1] + four[2:3]),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=periods)
    assert rows["commitment"].to_list() == [1.0, 0.5]


@pytest.mark.xfail(
    strict=True,
    reason="DOMAIN: 'commitment: active actors this window / max(active actors "
    "this window, previous window)'; when the previous window held no event "
    "(0 actors) the code compares with the last window that held events "
    "instead (2/4, not 2/max(2, 0) = 1)",
)
def test_commitment_after_an_empty_window_compares_with_that_window():
    periods = parse_periods(
        "I:2020-01-01..2020-03-31,II:2020-04-01..2020-06-30,III:2020-07-01..2020-09-30"
    )
    four = tuple(person("A", "professional", k) for k in range(2)) + tuple(
        person("B", "professional", k) for k in range(2)
    )
    events = [
        ev(1, "explore_expectations", 0, four),
        ev(2, "report_progress", 200, four[:1] + four[2:3]),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=periods)
    assert rows["period"].to_list() == ["I", "II", "III"]
    assert rows["commitment"].to_list() == [1.0, None, 1.0]


def test_named_periods_as_domain_writes_them_include_their_last_day():
    periods = parse_periods("I: 2012-01-01..2016-12-31, II: 2017-01-01..2019-12-31")
    events = [
        make_event(
            1,
            "p",
            "explore_expectations",
            timestamp=datetime(2016, 12, 31, 23, tzinfo=UTC),
            participants=team("A", "B"),
        ),
        make_event(
            2,
            "p",
            "sign_agreement",
            timestamp=datetime(2017, 1, 1, tzinfo=UTC),
            participants=team("A"),
        ),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=periods)
    assert rows["period"].to_list() == ["I", "II"]
    assert rows["inclusiveness"].to_list() == [None, 0.5]


def test_rolling_windows_are_half_open_90_days_every_30():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "sign_agreement", 90, team("A")),  # not in [day 0, day 90)
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=RollingWindows())
    assert rows["window_start"].to_list() == [day(0), day(30), day(60), day(90)]
    assert rows["window_end"][0] == day(90)
    assert rows["inclusiveness"].to_list() == [None, 0.5, 0.5, 0.5]


def test_lifecycle_stage_windows():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "negotiate_terms", 5, team("A")),
        ev(3, "sign_agreement", 10, team("A", "B")),
        ev(4, "feedback_meeting", 12, team("A", "B")),  # commitment by inference
        ev(5, "start_action", 20, team("A", "B"), idea_id="i"),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=LifecycleStages())
    assert rows["period"].to_list() == ["negotiation", "commitment", "execution"]
    assert rows["inclusiveness"].to_list() == [0.5, 1.0, None]
    assert rows["top_manager_feedback"].to_list() == [None, 0.0, None]


def test_per_workstream_partners_are_those_of_the_workstream_in_the_window():
    # Seed 003: HC with the insurers in funding; RMO, CC, PN in service design.
    events = [
        ev(1, "negotiate_terms", 0, team("HC", "HI1"), workstream="funding"),
        ev(2, "negotiate_terms", 1, team("HC", "HI2"), workstream="funding"),
        ev(3, "explore_expectations", 2, team("HC", "HI3"), workstream="funding"),
        ev(
            4,
            "agree_action_plan",
            3,
            team("RMO", "CC", "PN"),
            workstream="service_design",
            idea_id="i",
        ),
    ]
    rows = compute_indicators(
        new_events_to_frame(events), windows=ALL_2020, by="workstream"
    )
    by_ws = {r["workstream"]: r for r in rows.iter_rows(named=True)}
    # funding partners HC, HI1, HI2, HI3: decisions 2/4 and 2/4
    assert by_ws["funding"]["inclusiveness"] == pytest.approx(0.5)
    assert by_ws["funding"]["mode"] == "exclusive"
    assert by_ws["service_design"]["inclusiveness"] == 1.0
    # ungrouped: 7 active partners at the plan (all appeared by then): 3/7
    row = one_window(events)
    assert row["inclusiveness"] == pytest.approx((2 / 2 + 2 / 3 + 3 / 7) / 3)


# --- drift -----------------------------------------------------------------------


def _scores(statuses: list[str], scores: list[float]) -> pl.LazyFrame:
    t = [day(30 * i) for i in range(len(statuses))]
    return pl.LazyFrame(
        {
            "partnership_id": "p",
            "window_index": range(len(statuses)),
            "period": [x.date().isoformat() for x in t],
            "window_start": t,
            "window_end": [x + timedelta(days=90) for x in t],
            "alignment_score": scores,
            "status": statuses,
            "complete": True,
        }
    )


@pytest.mark.xfail(
    strict=True,
    reason="DOMAIN: a partnership drifts when its score 'crosses a status "
    "threshold'; detect_status_crossings smooths the status over 3 windows "
    "(k-out-of-n) by default, so a fall from aligned to at_risk in the last "
    "complete window raises nothing",
)
def test_status_crossing_raises_an_alert_at_the_crossing():
    from engine.drift import detect_status_crossings

    lf = _scores(["aligned"] * 3 + ["at_risk"], [0.8, 0.8, 0.8, 0.6])
    out = detect_status_crossings(lf).collect()
    assert out["window_start"].to_list() == [day(90)]


def test_status_crossing_with_smoothing_one_is_the_raw_crossing():
    from engine.alerts import StatusCrossingRule
    from engine.drift import detect_status_crossings

    lf = _scores(["aligned"] * 3 + ["at_risk"], [0.8, 0.8, 0.8, 0.6])
    out = detect_status_crossings(lf, rule=StatusCrossingRule(smoothing_windows=1))
    assert out.collect()["window_start"].to_list() == [day(90)]


# --- partner semantics -------------------------------------------------------------


def test_member_joined_adds_and_member_left_of_listed_partners_removes():
    joined = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "member_joined", 10, org="C"),
        ev(3, "sign_agreement", 20, team("A")),  # 1 of A, B, C
    ]
    assert deviations(joined, "exclusive_decision")["evidence"].to_list() == [[eid(3)]]
    left = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "member_left", 10, team("D")),  # no organization: its participants
        ev(3, "sign_agreement", 20, team("A", "B")),  # 2 of A, B, C
    ]
    assert deviations(left, "exclusive_decision").is_empty()


def test_reading_participants_not_the_recorder_drive_presence():
    # Documents the reading: "participants ... drives inclusiveness"; the
    # event's own organization (who recorded / led it) counts only when the
    # event lists no participants. A led a negotiation with B: 1 of 4.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "negotiate_terms", 10, team("B"), org="A", actor="a.lead"),
    ]
    assert deviations(events, "exclusive_decision")["evidence"].to_list() == [[eid(2)]]


def test_a_mediator_recording_its_own_mediation_stays_a_third_party():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", role="top_manager")),
        ev(2, "start_action", 5, team("A", "B"), idea_id="i"),
        ev(
            3,
            "raise_conflict",
            8,
            (*team("A", "B"), person("SHA", "mediator")),
            conflict_id="c",
        ),
        ev(
            4, "mediate_conflict", 10, org="SHA", actor="sha.mediator0", conflict_id="c"
        ),
        ev(5, "feedback_meeting", 20, team("A", "B", role="top_manager")),
    ]
    assert deviations(events, "missing_top_manager_feedback").is_empty()


def test_events_after_as_of_are_not_observed():
    events = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "report_progress", 185, team("A", "B")),
        ev(3, "start_action", 200, team("A", "B"), idea_id="i"),
    ]
    found = deviations(events, "stalled_idea_to_action", as_of=day(190))
    assert found["evidence"].to_list() == [[eid(1)]]  # the start is not seen yet
    found = deviations(events, "stalled_idea_to_action")
    assert found["evidence"].to_list() == [[eid(1), eid(3)]]


def test_an_empty_log_has_no_deviations_and_no_indicator_rows():
    frame = new_events_to_frame([])
    assert detect_deviations(frame, thresholds=RuleThresholds()).is_empty()
    assert compute_indicators(frame, windows=RollingWindows()).is_empty()


def test_participation_equality_counts_an_active_silent_partner_as_zero():
    periods = parse_periods("I:2020-01-01..2020-03-31,II:2020-04-01..2020-06-30")
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C")),
        ev(2, "explore_expectations", 100, team("A", "B")),
        ev(3, "define_values", 101, team("A")),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=periods)
    # period II: A 2, B 1, C 0 -> Gini = 2*(1+2+1) / (2*9*1) = 4/9
    assert rows["participation_equality"].to_list() == [1.0, pytest.approx(5 / 9)]


def test_reading_as_of_is_the_end_of_the_whole_log_for_waiting_rules():
    # Documents the reading (docs/rules.md): the waiting rules (stalled,
    # unresolved, hidden) wait until the end of the whole log, so a
    # partnership that went quiet after its plan is judged by the events of
    # another partnership; the feedback-gap rule stops at its own last event.
    quiet = [
        ev(1, "agree_action_plan", 0, team("A", "B"), idea_id="i"),
        ev(2, "start_action", 10, team("A", "B"), idea_id="j"),
    ]
    assert deviations(quiet, "stalled_idea_to_action").is_empty()
    other = [ev(3, "explore_expectations", 400, team("X", "Y"), pid="q")]
    found = deviations(quiet + other, "stalled_idea_to_action")
    assert found["evidence"].to_list() == [[eid(1)]]
    assert deviations(quiet + other, "missing_top_manager_feedback").is_empty()


def test_engine_written_alerts_are_not_partnership_events():
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "alert_raised", 1, org="partnermine", signal="score_drift"),
        ev(3, "sign_agreement", 2, team("A")),
    ]
    row = one_window(events)
    assert row["inclusiveness"] == pytest.approx(0.5)  # partnermine is no partner
    assert detect_deviations(
        new_events_to_frame(events), thresholds=RuleThresholds()
    ).is_empty()


def test_reading_objective_convergence_counts_proposals_of_the_window_only():
    # Documents the reading (engine/indicators.py): objectives proposed in the
    # window that are agreed by its end. With lifecycle stages, objectives
    # proposed in negotiation and agreed in commitment give negotiation 0 and
    # commitment null (nothing proposed there): never "converged".
    events = [
        ev(
            1, "propose_objective", 0, team("A"), objective_id="o1", visibility="shared"
        ),
        ev(
            2, "propose_objective", 1, team("B"), objective_id="o2", visibility="shared"
        ),
        ev(3, "agree_objectives", 10, team("A", "B"), objective_ids=["o1", "o2"]),
        ev(4, "sign_agreement", 11, team("A", "B")),
    ]
    rows = compute_indicators(new_events_to_frame(events), windows=LifecycleStages())
    assert rows["period"].to_list() == ["negotiation", "commitment"]
    assert rows["objective_convergence"].to_list() == [0.0, None]
    assert one_window(events)["objective_convergence"] == 1.0


def test_reading_member_left_names_its_organization_field_first():
    # Documents the reading (docs/rules.md): the organization leaving is the
    # event's own organization; the participants only when it is empty. A
    # departure of D recorded by A's manager (organization A) removes A.
    events = [
        ev(1, "initiate_partnership", 0, team("A", "B", "C", "D")),
        ev(2, "member_left", 10, team("D"), org="A", actor="a.manager0"),
        ev(3, "sign_agreement", 20, team("B", "C")),  # 2 of B, C, D: fine
        ev(4, "sign_agreement", 21, team("A")),  # A is no longer active: 0 of 3
    ]
    found = deviations(events, "exclusive_decision")
    assert found["evidence"].to_list() == [[eid(4)]]
    assert "0 of 3 active partners" in found["message"][0]


def test_a_self_recorded_mediation_adds_no_partner_to_the_indicators():
    periods = parse_periods("I:2020-01-01..2020-03-31")
    base = [
        ev(1, "initiate_partnership", 0, team("A", "B")),
        ev(2, "agree_objectives", 10, team("A", "B")),
    ]
    mediation = ev(3, "mediate_conflict", 5, org="SHA", actor="sha.m", conflict_id="c")
    recorded = ev(3, "report_progress", 5, org="SHA", actor="sha.m")

    def row(events):
        rows = compute_indicators(new_events_to_frame(events), windows=periods)
        return rows.select("inclusiveness", "participation_equality").row(0)

    # The mediator stays a third party: both partners decided, equally active.
    assert row([*base, mediation]) == (1.0, 1.0)
    # The same organization recording other work on its own is a partner.
    assert row([*base, recorded])[0] == pytest.approx(2 / 3)


def test_a_partner_recording_its_mediation_counts_as_if_listed_as_mediator():
    abc = (person("A"), person("B"), person("C"))

    def log(mediation):
        return [
            ev(1, "explore_expectations", 0, abc),
            ev(2, "negotiate_terms", 10, abc),
            ev(3, "explore_expectations", 100, (person("A"), person("B"))),
            mediation,
            ev(9, "explore_expectations", 200, abc),
        ]

    own = ev(4, "mediate_conflict", 110, org="C", actor="c.manager0", conflict_id="k")
    listed = ev(
        4, "mediate_conflict", 110, (("c.manager0", "C", "mediator"),), conflict_id="k"
    )
    # C's manager takes part in window 2 either way: 3 actors, no fall.
    for mediation in (own, listed):
        assert deviations(log(mediation), "commitment_loss", as_of=day(300)).is_empty()
    # Without the mediation, 3 -> 2 actors falls by a third.
    assert not deviations(
        log(ev(4, "share_information", 110, (person("A"),))),
        "commitment_loss",
        as_of=day(300),
    ).is_empty()
