"""Scenario ``urban-health-partnership``: seed 003 (German urban healthcare partnership).

Encoded event by event from the seed text
(``/work/shared/seeds/003_21f277ddd8fae087.txt``): sections 3.1 (case), 3.2
(Table 2: dated meetings and press conferences), 3.3.1 (case narrative, phases
I-III), 4.1-4.3 (findings) and Table 5. Eleven organizations (Table 1, Table 2
interviewees): healthcare consultancy HC, regional management office RMO,
physician network PN, health insurers HI1-HI3, state health authority SHA,
community centre CC, hospital HOSP, centre for psychosocial medicine CPM, an IT
company IT; the scientific evaluation institute EVAL is a third party
(researcher). SHA's senior civil servant takes the role ``mediator`` from 2017
("facilitator of the process", minutes 9 October 2017); before, SHA acts as a
partner (supporter, field analysis).

Workstreams separate the coalitions of Table 5 so per-workstream indicators
can reproduce it: ``insurers_HI1`` (HC with HI1; the funding/contract arena:
exclusive in phase I, inclusive in phase II), ``insurers_HI2_HI3`` (HC with HI2,
HI3 and SHA: exclusive in phases I and II), ``service_design`` (RMO, CC,
physicians and service providers: inclusive throughout) and ``consortium``
(the joint consortium of phase III: inclusive). Phases: I 2012-2016, II 2017 to
mid-2018, III mid-2018 to December 2019. Days the paper does not give are
placed within the year or period it names. Each coalition has a decision event
in each phase Table 5 classifies it: the service-design coalition agrees its
shared vision at the 2015 strategy workshops (phase I); in phase III, where
Table 5 places this strand under the joint consortium, its joint objective of
continuing the measures is agreed (topic ``service_design``) in the SHA-moderated
meeting of 6 March 2019, so that workstream's partners then include the
meeting's insurers, HC and hospital. The phase II insurer meetings are
multilateral and mediated, so that coalition's exclusive mode there is carried
by HC's hidden objective (lacking transparency), as Table 5 ("Hid objectives")
has it.

Expected findings (docs/rules.md): ``exclusive_decision`` for HC's bilateral
insurer negotiations, ``hidden_objective`` for the insurers' and HC's private
objectives, ``unresolved_conflict`` (insurers vs HC, the contract), and, as
the log holds no assessment meetings and sparse quarters,
``stalled_idea_to_action``, ``missing_top_manager_feedback`` (gap) and
``commitment_loss`` (quiet windows).
"""

from __future__ import annotations

from typing import Final

from adapters.scenarios.encoding import ScenarioEvent, people

__all__ = ["EVENTS", "NAME"]

NAME: Final = "urban-health-partnership"

HC_HEAD = ("hc.head", "HC", "top_manager")
HC_STAFF = people("HC", "employee", 3, "manager")
RMO_STAFF = people("RMO", "employee", 3, "manager")
PHYSICIAN = ("pn.physician01", "PN", "professional")
CIVIL_SERVANT = ("sha.senior_civil_servant", "SHA", "manager")
MEDIATOR = ("sha.senior_civil_servant", "SHA", "mediator")
SHA_STAFF = ("sha.civil_servant02", "SHA", "manager")
CC_WORKER = ("cc.community_worker01", "CC", "professional")
CC_HEAD = ("cc.head", "CC", "top_manager")
HOSPITAL = ("hosp.manager01", "HOSP", "manager")
CPM = ("cpm.researcher01", "CPM", "specialist")
IT = ("it.employee01", "IT", "specialist")
EVAL = people("EVAL", "evaluator", 2, "researcher")


def _insurer(n: int, role: str = "manager") -> tuple[str, str, str]:
    return (f"hi{n}.employee01", f"HI{n}", role)


def _ceo(n: int) -> tuple[str, str, str]:
    return (f"hi{n}.ceo", f"HI{n}", "top_manager")


def _physicians(n: int) -> tuple[tuple[str, str, str], ...]:
    return people("PN", "physician", n, "professional")


INSURERS = (_insurer(1), _insurer(2), _insurer(3))
# 4.2: "strategy workshops in 2015 involving 40 to 50 participants with diverse
# occupational backgrounds, including physicians and other health care
# providers, community workers" (politicians are not an organization here)
WORKSHOP = (
    *RMO_STAFF, *_physicians(18), *people("CC", "community_worker", 10, "professional"),
    *people("HOSP", "physician", 6, "professional"), CPM, *people("PN", "nurse", 6, "professional"),
)  # fmt: skip
SERVICE = (*RMO_STAFF, CC_WORKER, PHYSICIAN, HOSPITAL, CPM, IT)

EVENTS: Final = (
    # --- Phase I (2012-2016) -------------------------------------------------
    # 3.1: "a conversation between a local physician and the head of a
    # healthcare consultancy in 2012".
    ScenarioEvent("2012-03-15", "initiate_partnership", (HC_HEAD, PHYSICIAN), phase="negotiation"),
    # 3.3.1 Phase I: "the consultancy reached out to the state health
    # authority, which expressed its support for the proposal".
    ScenarioEvent("2012-06-12", "explore_expectations", (HC_HEAD, CIVIL_SERVANT), phase="negotiation"),
    # 3.3.1 Phase I: "... and referred the consultancy and physician to the
    # community centre".
    ScenarioEvent("2012-09-18", "explore_expectations", (HC_HEAD, PHYSICIAN, CC_HEAD), phase="negotiation", workstream="service_design"),
    # 3.3.1 Phase I: "In 2013, the consultancy approached several large health
    # insurers to present its vision"; 4.1: HI1 and HC "had bilateral
    # communication channels ... based on their pre-existing business relations".
    ScenarioEvent("2013-02-20", "negotiate_terms", (HC_HEAD, _insurer(1)), phase="negotiation", workstream="insurers_HI1"),
    # Table 5, phase I, HC/HI1: "Faced differences in objectives" (stated, not hidden).
    ScenarioEvent("2013-02-20", "propose_objective", (_insurer(1),), phase="negotiation", workstream="insurers_HI1", attributes={"objective_id": "hi1_data_driven_care", "visibility": "shared"}, minute=90),
    # 4.3: HC "was repeatedly criticized for pursuing a 'hidden agenda'".
    ScenarioEvent("2013-02-20", "propose_objective", (HC_HEAD,), phase="negotiation", workstream="insurers_HI1", attributes={"objective_id": "hc_business_model", "visibility": "private"}, minute=120),
    # Table 3 quote (health insurer, 2017): "by negotiating with everyone
    # individually and then telling them, 'That [partner] has agreed to this'".
    ScenarioEvent("2013-03-13", "negotiate_terms", (HC_HEAD, _insurer(2)), phase="negotiation", workstream="insurers_HI2_HI3"),
    # Table 5, phase I, HC/HI2/HI3/SHA: "Hid objectives".
    ScenarioEvent("2013-03-13", "propose_objective", (_insurer(2),), phase="negotiation", workstream="insurers_HI2_HI3", attributes={"objective_id": "hi2_cost_control", "visibility": "private"}, minute=90),
    ScenarioEvent("2013-04-10", "negotiate_terms", (HC_HEAD, _insurer(3)), phase="negotiation", workstream="insurers_HI2_HI3"),
    ScenarioEvent("2013-04-10", "propose_objective", (_insurer(3),), phase="negotiation", workstream="insurers_HI2_HI3", attributes={"objective_id": "hi3_member_retention", "visibility": "private"}, minute=90),
    # 4.1: bilateral HC-HI1 exchange "(minutes from 21 May 2013 and 18 July 2013)".
    ScenarioEvent("2013-05-21", "share_information", (HC_HEAD, _insurer(1)), phase="negotiation", workstream="insurers_HI1", attributes={"audience": "subset"}),
    ScenarioEvent("2013-07-18", "share_information", (HC_HEAD, _insurer(1)), phase="negotiation", workstream="insurers_HI1", attributes={"audience": "subset"}),
    # 4.1: "this bilateral exchange of information created the impression
    # among the other two health insurers that they 'were being played off
    # against each other'".
    ScenarioEvent("2013-09-25", "raise_conflict", (_insurer(2), _insurer(3), HC_HEAD), phase="negotiation", workstream="insurers_HI2_HI3", attributes={"conflict_id": "insurers_vs_hc"}),
    # 3.3.1 Phase I: "One of the leading health insurers expressed tentative
    # support for the idea. ... the necessary financing remained elusive."
    ScenarioEvent("2013-11-06", "negotiate_terms", (HC_HEAD, _ceo(1)), phase="negotiation", workstream="insurers_HI1"),
    # 3.3.1 Phase I: "In 2014, the state health authority commissioned a field
    # analysis to identify the health and social care needs of the area".
    ScenarioEvent("2014-05-14", "assess_needs", (CIVIL_SERVANT, SHA_STAFF, CC_WORKER, *EVAL), phase="commitment", workstream="service_design"),
    # 3.3.1 Phase I: "The healthcare consultancy took on the leadership role in
    # the strategizing process, providing an initial concept".
    ScenarioEvent("2015-02-11", "propose_idea", (HC_HEAD, *HC_STAFF), phase="commitment", workstream="consortium", attributes={"idea_id": "integrated_care_model"}),
    # 4.2: RMO and CC "organized strategy workshops in 2015 involving 40 to 50
    # participants"; community worker: "we succeeded ... getting some of the
    # physicians to actually show up to our expert talks".
    ScenarioEvent("2015-04-22", "assess_needs", WORKSHOP, phase="commitment", workstream="service_design"),
    ScenarioEvent("2015-06-17", "assess_needs", WORKSHOP, phase="commitment", workstream="service_design"),
    # Table 5, phase I, RMO/CC/physicians: "Created shared vision based on
    # evidence on and perception of a wicked problem"; 4.3: employees of the
    # later RMO "successfully brought together service providers in the area,
    # allowing them to ... work towards their shared vision of improving
    # healthcare in the area: 'We want to approach it with a common impulse to
    # change something. We have seen [that] we all feel the same way'"
    # (physician, 2017); 3.3.1 Phase I: "We got into dialogue and also accepted
    # things from each other ... The interim results from the workshop were
    # then also incorporated into the proposal" (community worker, 2017).
    ScenarioEvent("2015-06-17", "agree_objectives", WORKSHOP, phase="commitment", workstream="service_design", attributes={"objective_ids": ["shared_vision_area_healthcare"]}, minute=120),
    # Table 5, phase I, HC/HI2/HI3/SHA: "Mediator respected by all stakeholders
    # initiated first conflict management".
    ScenarioEvent("2015-07-08", "mediate_conflict", (CIVIL_SERVANT, _insurer(2), _insurer(3), HC_HEAD), phase="commitment", workstream="insurers_HI2_HI3", attributes={"conflict_id": "insurers_vs_hc"}),
    # 3.3.1 Phase I: "During strategy workshops, bilateral and multilateral
    # talks, the organizations involved succeeded in developing a joint action
    # plan and a joint proposal for public funding".
    ScenarioEvent("2015-10-14", "agree_action_plan", (HC_HEAD, *RMO_STAFF[:1], PHYSICIAN, *INSURERS, CIVIL_SERVANT, CC_WORKER, HOSPITAL), phase="commitment", workstream="consortium", attributes={"idea_id": "integrated_care_model"}),
    # 3.3.1 Phase I: "culminating in the successful acquisition of the grant in mid-2016".
    ScenarioEvent("2016-06-29", "share_information", (HC_HEAD, *RMO_STAFF[:1], PHYSICIAN, *INSURERS, CIVIL_SERVANT, CC_WORKER), phase="commitment", workstream="consortium", attributes={"audience": "all"}),
    # 3.3.1: the grant "necessitated the establishment of a partnership contract
    # that would be signed by all participating organizations"; 4.1 quote:
    # "we have a set contract, you can accept it or not".
    ScenarioEvent("2016-09-21", "negotiate_terms", (HC_HEAD, _insurer(2)), phase="commitment", workstream="insurers_HI2_HI3"),
    ScenarioEvent("2016-09-28", "negotiate_terms", (HC_HEAD, _insurer(3)), phase="commitment", workstream="insurers_HI2_HI3"),
    # --- Phase II (2017 to mid-2018) -----------------------------------------
    # Table 1: RMO "became an independent organization in 2017".
    ScenarioEvent("2017-01-10", "member_joined", (RMO_STAFF[0],), phase="execution", organization="RMO"),
    # 3.1: "In 2017, the healthcare model was officially implemented, with
    # active involvement from physicians, community workers, and a regional
    # management office".
    ScenarioEvent("2017-01-16", "start_action", (*RMO_STAFF, PHYSICIAN, CC_WORKER), phase="execution", workstream="service_design", attributes={"idea_id": "integrated_care_model"}),
    # Table 3, minutes from 9 February 2017: "Weekly Update to all partners ...
    # The partners would like to meet regularly, once a month".
    ScenarioEvent("2017-02-09", "share_information", (*RMO_STAFF, HC_STAFF[0], PHYSICIAN, CC_WORKER, *INSURERS, CIVIL_SERVANT), phase="execution", workstream="consortium", attributes={"audience": "all"}),
    # 4.1: PN "expanded from seven members who had occasional meetings in 2017".
    ScenarioEvent("2017-03-15", "share_information", (*_physicians(7), RMO_STAFF[0]), phase="execution", workstream="service_design", attributes={"audience": "all"}),
    # 3.3.1 Phase II: RMO "began implementing measures in collaboration with
    # service providers in the area while also refining these measures"; 3.1:
    # "multilingual low-threshold healthcare counselling".
    ScenarioEvent("2017-04-05", "agree_action_plan", SERVICE, phase="commitment", workstream="service_design", attributes={"idea_id": "counselling_service"}),
    ScenarioEvent("2017-06-07", "start_action", (*RMO_STAFF, CC_WORKER), phase="execution", workstream="service_design", attributes={"idea_id": "counselling_service"}),
    # Table 5, phase II, HC/HI1: "Intensified business relationships",
    # "Developed first trust in negotiations", "Converged objectives".
    ScenarioEvent("2017-06-21", "negotiate_terms", (*HC_STAFF[:2], _insurer(1), _ceo(1)), phase="negotiation", workstream="insurers_HI1"),
    ScenarioEvent("2017-06-21", "agree_objectives", (HC_STAFF[0], _insurer(1)), phase="commitment", workstream="insurers_HI1", attributes={"objective_ids": ["hi1_data_driven_care"]}, minute=60),
    ScenarioEvent("2017-06-28", "share_information", (HC_STAFF[0], _insurer(1)), phase="execution", workstream="insurers_HI1", attributes={"audience": "all"}),
    # Table 2, press conference 30 September 2017, "held by the CEOs of the
    # health insurers, civil servants from the state health authority,
    # physicians, and employees of the regional management office and the
    # healthcare consultancy".
    ScenarioEvent("2017-09-30", "share_information", (_ceo(1), _ceo(2), _ceo(3), MEDIATOR, *_physicians(3), RMO_STAFF[0], HC_HEAD), phase="execution", workstream="consortium", attributes={"audience": "all"}),
    # 4.1: "[HC is] not prepared to focus on questions like this until the
    # arbitration meeting with [the senior civil servant] has taken place".
    ScenarioEvent("2017-10-09", "mediate_conflict", (MEDIATOR, *INSURERS, HC_STAFF[0]), phase="execution", workstream="insurers_HI2_HI3", attributes={"conflict_id": "insurers_vs_hc"}),
    # Table 2: strategic meeting "9 Oct. 2017/1 h/HC, HI 1, HI 2, HI 3, SHA,
    # evaluation institute"; 4.3: SHA "managed to secure a joint agreement
    # that '[the project] ... is therefore still worthy of unrestricted support'".
    ScenarioEvent("2017-10-09", "agree_objectives", (HC_STAFF[0], *INSURERS, MEDIATOR, *EVAL), phase="commitment", workstream="insurers_HI2_HI3", attributes={"objective_ids": ["unrestricted_support"]}, minute=60),
    # 4.1: "the deadlock between health insurers and the healthcare
    # consultancy was broken by the intensive conflict management of the
    # senior civil servant".
    ScenarioEvent("2017-10-09", "resolve_conflict", (MEDIATOR, *INSURERS, HC_STAFF[0]), phase="execution", workstream="insurers_HI2_HI3", attributes={"conflict_id": "insurers_vs_hc"}, minute=61),
    # Table 3, minutes from 9 October 2017: "several parts in the partnership
    # contract have to be changed, particularly from the perspective of the
    # [health insurers]"; 3.3.1 Phase II: "severe difficulties in developing a
    # joint contract with the healthcare consultancy".
    ScenarioEvent("2017-10-09", "raise_conflict", (_insurer(2), _insurer(3), HC_STAFF[0]), phase="execution", workstream="insurers_HI2_HI3", attributes={"conflict_id": "partnership_contract"}, minute=62),
    # Table 5, phase II, HC/HI2/HI3/SHA: "Hid objectives" (exclusive mode:
    # "Lacking transparency"); 4.3: HC "was repeatedly criticized for pursuing
    # a 'hidden agenda' or, at the very least, being opaque about its
    # objectives"; Table 3: "One has to bear in mind that [HC] earns money with
    # it ... this has to happen extremely transparently. And the transparency
    # is very expandable" (senior civil servant, 2017); 4.1: HC's "knee-jerk
    # refusal to open up to differing positions" (health insurer, 2017).
    ScenarioEvent("2017-10-09", "propose_objective", (HC_STAFF[0],), phase="negotiation", workstream="insurers_HI2_HI3", attributes={"objective_id": "hc_business_model", "visibility": "private"}, minute=63),
    # Table 2: strategic meeting "29 Nov. 2017/1 h/HC, HI 1, HI 2, HI3, SHA,
    # evaluation institute".
    ScenarioEvent("2017-11-29", "negotiate_terms", (HC_STAFF[0], *INSURERS, MEDIATOR, *EVAL), phase="negotiation", workstream="insurers_HI2_HI3"),
    # 4.1: the network of physicians grew "to 61 members with regular network
    # meetings in 2019" (intermediate sizes placed between).
    ScenarioEvent("2018-03-14", "share_information", (*_physicians(25), RMO_STAFF[0]), phase="execution", workstream="service_design", attributes={"audience": "all"}),
    # --- Phase III (mid-2018 to December 2019) -------------------------------
    # 3.1: "the health insurers, intensified their strategic efforts around mid-2018".
    ScenarioEvent("2018-07-11", "negotiate_terms", (*INSURERS, MEDIATOR, HC_STAFF[0], RMO_STAFF[0], PHYSICIAN), phase="negotiation", workstream="consortium"),
    ScenarioEvent("2018-09-12", "share_information", (*_physicians(40), *RMO_STAFF, CC_WORKER), phase="execution", workstream="service_design", attributes={"audience": "all"}),
    # 4.1: SHA organized "two strategy meetings with 13 participants each,
    # representing the three health insurers, the network of physicians, the
    # regional management office, the healthcare consultancy, hospital
    # management, the scientific evaluation team, and the state health
    # authority (minutes from 7 December 2018 and 6 March 2019)".
    ScenarioEvent("2018-12-07", "negotiate_terms", (*INSURERS, _ceo(2), *_physicians(2), *RMO_STAFF[:2], *HC_STAFF[:2], HOSPITAL, *EVAL, MEDIATOR), phase="negotiation", workstream="consortium"),
    # 4.3: "This led to the overarching objective of a 'contractually secured
    # continuation of the project' (minutes from 7 December 2018)".
    ScenarioEvent("2018-12-07", "agree_objectives", (*INSURERS, *_physicians(2), *RMO_STAFF[:2], *HC_STAFF[:2], HOSPITAL, MEDIATOR), phase="commitment", workstream="consortium", attributes={"objective_ids": ["secured_continuation"]}, minute=60),
    ScenarioEvent("2019-03-06", "negotiate_terms", (*INSURERS, _ceo(3), *_physicians(2), *RMO_STAFF[:2], *HC_STAFF[:2], HOSPITAL, *EVAL, MEDIATOR), phase="negotiation", workstream="consortium"),
    # Table 5, phase III: the RMO/CC/physicians strand sits under the "Joint
    # consortium" and "Followed joint objectives based on evidence on and
    # perception of a wicked problem"; 4.3: "In phase three, the talk of a
    # shared vision fed into the joint discussions moderated by the senior
    # civil servant. Here, physicians had to become more concrete about their
    # aims, resulting in joint objectives, most notably the request to continue
    # existing measures in the area" (the service-design topic: the measures
    # RMO runs with service providers, 3.3.1 Phase II); 4.1: the two strategy
    # meetings "(minutes from 7 December 2018 and 6 March 2019)".
    ScenarioEvent("2019-03-06", "agree_objectives", (*INSURERS, *_physicians(2), *RMO_STAFF[:2], *HC_STAFF[:2], HOSPITAL, MEDIATOR), phase="commitment", workstream="service_design", attributes={"objective_ids": ["continue_measures"]}, minute=60),
    ScenarioEvent("2019-03-20", "share_information", (*_physicians(52), *RMO_STAFF, CC_WORKER), phase="execution", workstream="service_design", attributes={"audience": "all"}),
    # 4.1: "This is so exhausting and so unfruitful, we won't continue [the
    # collaboration] this way" (physician, 2019); "The doctors blackmailed us,
    # saying, 'Either you quit the project or we leave'" (HC employee, 2019).
    ScenarioEvent("2019-09-11", "raise_conflict", (*_physicians(3), HC_STAFF[0]), phase="execution", workstream="consortium", attributes={"conflict_id": "physicians_vs_hc"}),
    ScenarioEvent("2019-09-25", "share_information", (*_physicians(61), *RMO_STAFF, CC_WORKER), phase="execution", workstream="service_design", attributes={"audience": "all"}),
    # 4.1: "the healthcare consultancy's withdrawal from the partnership in late
    # 2019. As a result, the consultancy lost its role as a contract partner".
    ScenarioEvent("2019-11-13", "member_left", (HC_HEAD,), phase="execution", organization="HC"),
    # 3.3.1 Phase III: "a consensus on the continuation of the project was
    # ultimately reached in December 2019—without the healthcare consultancy";
    # Table 2: press conference 5 December 2019.
    ScenarioEvent("2019-12-05", "sign_agreement", (_ceo(1), _ceo(2), _ceo(3), MEDIATOR, *_physicians(2), RMO_STAFF[0], CC_HEAD, HOSPITAL), phase="commitment", workstream="consortium"),
    # 4.3: in phase III physicians' aims became "joint objectives, most notably
    # the request to continue existing measures in the area".
    ScenarioEvent("2019-12-05", "agree_objectives", (*INSURERS, *_physicians(2), RMO_STAFF[0], CC_WORKER, HOSPITAL, MEDIATOR), phase="commitment", workstream="consortium", attributes={"objective_ids": ["secured_continuation", "continue_measures"]}, minute=30),
    ScenarioEvent("2019-12-05", "resolve_conflict", (*_physicians(2), MEDIATOR, *INSURERS), phase="execution", workstream="consortium", attributes={"conflict_id": "physicians_vs_hc"}, minute=31),
    ScenarioEvent("2019-12-05", "resolve_conflict", (*INSURERS, MEDIATOR), phase="execution", workstream="consortium", attributes={"conflict_id": "partnership_contract"}, minute=32),
    ScenarioEvent("2019-12-05", "share_information", (_ceo(1), _ceo(2), _ceo(3), MEDIATOR, *_physicians(3), RMO_STAFF[0]), phase="execution", workstream="consortium", attributes={"audience": "all"}, minute=120),
)  # fmt: skip
