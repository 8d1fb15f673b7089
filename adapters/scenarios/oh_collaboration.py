"""Scenario ``oh-collaboration``: seed 000 (Finnish occupational-health partnership).

Encoded event by event from Table 1 and the Results of the seed text
(``/work/shared/seeds/000_1351922b3df67c8c.txt``): employer EM (a global
wholesale trader) and service provider SP (an occupational-health company),
facilitated and followed by a research team (``RES``, roles facilitator and
researcher: a third party, never a partner).

The paper gives stages by year ("NEGOTIATION PHASE (1st year)", "EXECUTION
PHASE (2nd year)") but no calendar dates; year 1 is placed in 2018, year 2 in
2019, with the plan agreed mid-year 1 and the pilot launched early in year 2
("after one year of negotiations and arrangements"). Roles: the HR manager
(EM) and the medical director (SP) are the partners' top managers in the
partnership (Results: "the top managers (of both EM and SP) lost their
interest ... absent from a feedback meeting"); the CEO is EM's top manager too.

Expected findings (docs/rules.md): ``missing_top_manager_feedback`` at the final
meeting (and the long gap without assessment during the pilot), and
``stalled_idea_to_action`` (plan to pilot start more than 180 days).
"""

from __future__ import annotations

from typing import Final

from adapters.scenarios.encoding import ScenarioEvent, people

__all__ = ["EVENTS", "NAME"]

NAME: Final = "oh-collaboration"

HR_MANAGER = ("em.hr_manager", "EM", "top_manager")
HR_SPECIALISTS = people("EM", "hr_specialist", 2, "specialist")
CEO = ("em.ceo", "EM", "top_manager")
DIRECTORS = people("EM", "divisional_director", 2, "manager")
MEDICAL_DIRECTOR = ("sp.medical_director", "SP", "top_manager")
ACCOUNT_MANAGER = ("sp.account_manager", "SP", "manager")
OH_NURSE = ("sp.oh_nurse", "SP", "professional")
OH_PHYSICIAN = ("sp.oh_physician", "SP", "professional")
PHYSIOTHERAPIST = ("sp.physiotherapist", "SP", "professional")
OH_TEAM = (OH_NURSE, OH_PHYSICIAN, PHYSIOTHERAPIST)


def _facilitators(n: int) -> tuple[tuple[str, str, str], ...]:
    return people("RES", "facilitator", n, "facilitator")


def _researchers(n: int) -> tuple[tuple[str, str, str], ...]:
    return people("RES", "researcher", n, "researcher")


EVENTS: Final = (
    # Table 1, NEGOTIATION PHASE (1st year): "Two meetings to prepare for and
    # initiate the collaboration" -- "HR manager of employer (EM), Medical
    # director of service provider (SP), Facilitators (n = 4)".
    ScenarioEvent("2018-01-17", "initiate_partnership", (HR_MANAGER, MEDICAL_DIRECTOR, *_facilitators(4)), phase="negotiation"),
    # Table 1, negotiation, 2nd meeting: "Mapping the joint vision and
    # identifying the needs for collaboration (statements of commitment)".
    ScenarioEvent("2018-02-14", "explore_expectations", (HR_MANAGER, MEDICAL_DIRECTOR, *_facilitators(4)), phase="negotiation"),
    # Results, negotiation: SP medical director: "the aim is to form a
    # long-lasting and unique partnership by co-creating novel things together".
    ScenarioEvent("2018-02-14", "propose_objective", (MEDICAL_DIRECTOR,), phase="negotiation", attributes={"objective_id": "unique_partnership", "visibility": "shared"}, minute=1),
    # Results, negotiation: EM HR manager expected the "partnership to provide
    # the value that would be impossible to receive anywhere else".
    ScenarioEvent("2018-02-14", "propose_objective", (HR_MANAGER,), phase="negotiation", attributes={"objective_id": "unique_value", "visibility": "shared"}, minute=2),
    # Table 1, COMMITMENT PHASE (1st year): "Two workshops on defining
    # organizational values" -- "HR manager and HR specialist of EM, Medical
    # director and account manager of SP, Facilitators (n = 5), Researchers (2)".
    ScenarioEvent("2018-03-07", "define_values", (HR_MANAGER, HR_SPECIALISTS[0], MEDICAL_DIRECTOR, ACCOUNT_MANAGER, *_facilitators(5), *_researchers(2)), phase="commitment", workstream="values"),
    ScenarioEvent("2018-03-28", "define_values", (HR_MANAGER, HR_SPECIALISTS[0], MEDICAL_DIRECTOR, ACCOUNT_MANAGER, *_facilitators(5), *_researchers(2)), phase="commitment", workstream="values"),
    # Table 1, commitment: "Focus group interview with the multi-professional
    # occupational health (OH) team (OH nurse, OH physician) (SP)"; Data
    # collection: "A focus group interview ... lasted 60 minutes".
    ScenarioEvent("2018-04-11", "assess_needs", (OH_NURSE, OH_PHYSICIAN, PHYSIOTHERAPIST, *_researchers(2)), phase="commitment", workstream="needs"),
    # Table 1, commitment: "Interviews with managing directors (EM)"; Data
    # collection: "the CEO, HR manager and divisional directors (N=3)".
    ScenarioEvent("2018-04-18", "assess_needs", (CEO, HR_MANAGER, DIRECTORS[0], *_researchers(2)), phase="commitment", workstream="needs"),
    # Results, commitment: "they proposed collecting data to obtain the
    # employees' perspectives on their specific needs" -- the idea of joint
    # action that later became the pilot.
    ScenarioEvent("2018-04-25", "propose_idea", (HR_MANAGER, MEDICAL_DIRECTOR), phase="commitment", workstream="pilot", attributes={"idea_id": "wellbeing_pilot"}),
    # Table 1, commitment: "A meeting with the extended group to set the
    # operational goals and measures for actions to promote well-being".
    ScenarioEvent("2018-05-09", "agree_objectives", (HR_MANAGER, *HR_SPECIALISTS, MEDICAL_DIRECTOR, ACCOUNT_MANAGER, *OH_TEAM, *_facilitators(5)), phase="commitment", attributes={"objective_ids": ["unique_partnership", "unique_value"]}),
    # Table 1, commitment: "A questionnaire for the extended group"; Data
    # collection: "a questionnaire ... was used to get feedback on the collaboration".
    ScenarioEvent("2018-05-23", "assess_needs", (*HR_SPECIALISTS, ACCOUNT_MANAGER, *OH_TEAM, *_researchers(2)), phase="commitment", workstream="needs"),
    # Table 1, commitment: "A meeting with the extended group -- Agreement on
    # the plan of action (including measures, timetable, responsibilities)".
    ScenarioEvent("2018-06-13", "agree_action_plan", (HR_MANAGER, *HR_SPECIALISTS, MEDICAL_DIRECTOR, ACCOUNT_MANAGER, *OH_TEAM, *_facilitators(5)), phase="commitment", workstream="pilot", attributes={"idea_id": "wellbeing_pilot"}),
    # Table 1, EXECUTION PHASE (2nd year): "The initiation of the pilot project
    # -- HR specialist of EM, OH nurse of SP"; Results: "after one year of
    # negotiations and arrangements, the partners finally launched an eHealth
    # promotion pilot".
    ScenarioEvent("2019-02-06", "start_action", (HR_SPECIALISTS[0], OH_NURSE), phase="execution", workstream="pilot", attributes={"idea_id": "wellbeing_pilot"}),
    # Results, execution: "the social online platform was considered a
    # satisfactory and successful activity, at least from the standpoint of
    # the executors and the middle managers involved".
    ScenarioEvent("2019-06-12", "report_progress", (HR_SPECIALISTS[0], OH_NURSE, ACCOUNT_MANAGER), phase="execution", workstream="pilot"),
    # Table 1, execution: "A final meeting with the extended group to discuss
    # the results -- HR specialist of EM, OH physician and OH nurse, customer
    # manager of SP, Researchers (n = 5)"; Results: "As the top managers were
    # absent from a feedback meeting, they missed the execution stage".
    ScenarioEvent("2019-11-20", "feedback_meeting", (HR_SPECIALISTS[0], OH_PHYSICIAN, OH_NURSE, ACCOUNT_MANAGER, *_researchers(5)), phase="execution", workstream="pilot"),
)  # fmt: skip
