"""Completeness of a business case's file, billing-field checks and due dates,
told as the archive-room's story: given a case and its papers, when checked, then …"""

import dataclasses
from datetime import date

import pytest

from dangan.archive.business.completeness import evaluate_completeness
from dangan.archive.business.predicates import PREDICATES
from dangan.archive.business.scheme import load_scheme
from dangan.archive.business.workdays import add_months, add_working_days, due_dates


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


# the demo folders (shared convention) with the billing fields a clerk records
DEMO_CASES = {
    "XZ": (["SQ", "SF", "CQ", "KC", "FA", "HT", "ZB"], {"voltage_class": "LV", "customer_class": "residential"}, {}),
    "ZT": (
        ["SQ", "ZG", "JQ", "FT"],
        {"voltage_class": "HV", "bills_settled": True},
        {
            "seal_date": "2024-03-01",
            "planned_end_date": "2024-06-01",
            "sealed_equipment": [{"transformer_id": "T1", "capacity_kva": 800}],
        },
    ),
    "GH": (
        ["SQ", "SF", "CQ", "JQ", "HT"],
        {"bills_settled": True},
        {"new_party_id": "11010519491231002X", "settlement_confirmed_at": date(2024, 5, 6)},
    ),
    "XH": (
        ["SQ", "SF", "JQ", "CB"],
        {"bills_settled": True},
        {"meter_removal_date": "2024-04-02", "final_readings": [{"register": "总", "reading": "12345.6"}]},
    ),
    "JR": (
        ["SQ", "ZG", "JQ", "FT"],
        {"bills_settled": True},
        {
            "seal_date": "2024-01-10",
            "capacity_before_kva": 1250,
            "running_capacity_after_kva": 630,
            "period_start": "2024-01-10",
            "period_end": "2024-12-31",
        },
    ),
}


def check(scheme, code, docs, facts=None, fields=None, **kw):
    return evaluate_completeness(
        scheme, code, present_documents=docs, facts=facts or {}, billing_fields=fields or {}, **kw
    )


def missing_codes(result):
    return sorted((m.doc_types, m.role, m.count) for m in result.missing)


# ------------------------------------------------------------------ documents


@pytest.mark.parametrize("code", sorted(DEMO_CASES))
def test_complete_demo_case_is_ok(scheme, code):
    docs, facts, fields = DEMO_CASES[code]
    result = check(scheme, code, docs, facts, fields)
    assert result.problems() == []
    assert result.ok and result.documents_complete
    assert result.scheme_version == scheme.version
    assert result.warnings == ()


@pytest.mark.parametrize("code", sorted(DEMO_CASES))
def test_each_demo_document_is_needed(scheme, code):
    docs, facts, fields = DEMO_CASES[code]
    for left_out in docs:
        result = check(scheme, code, [d for d in docs if d != left_out], facts, fields)
        assert not result.ok
        assert any(left_out in m.doc_types for m in result.missing), left_out


def test_missing_mandatory_document_is_reported_exactly(scheme):
    docs, facts, fields = DEMO_CASES["XH"]
    result = check(scheme, "XH", [d for d in docs if d != "CB"], facts, fields)
    assert len(result.missing) == 1
    missing = result.missing[0]
    assert (missing.code, missing.name, missing.rule, missing.why, missing.stage) == (
        "CB",
        "拆表工作单",
        "mandatory",
        "mandatory",
        "拆表",
    )
    assert result.problems() == ["missing CB 拆表工作单 [mandatory, stage 拆表]"]


def test_conditional_document_required_only_when_its_predicate_holds(scheme):
    docs, facts, _fields = DEMO_CASES["XZ"]
    assert check(scheme, "XZ", docs, {**facts, "applicant_is_agent": False}).ok

    by_agent = check(scheme, "XZ", docs, {**facts, "applicant_is_agent": True})
    assert missing_codes(by_agent) == [(("SF",), "agent", 1), (("WT",), None, 1)]
    assert {m.why for m in by_agent.missing} == {"conditional: applicant_is_agent"}

    with_papers = check(scheme, "XZ", docs + ["WT", ("SF", "agent")], {**facts, "applicant_is_agent": True})
    assert with_papers.ok


def test_unstated_condition_is_recorded_as_an_assumption(scheme):
    docs, facts, _ = DEMO_CASES["XZ"]
    result = check(scheme, "XZ", docs, facts)
    assert any("applicant_is_agent" in a for a in result.assumptions)


def test_any_of_group_is_satisfied_by_any_member(scheme):
    _, facts, fields = DEMO_CASES["XH"]
    assert check(scheme, "XH", ["SQ", "ZG", "JQ", "CB"], facts, fields).ok
    assert check(scheme, "XH", ["SQ", "SF", "JQ", "CB"], facts, fields).ok
    neither = check(scheme, "XH", ["SQ", "JQ", "CB"], facts, fields)
    assert missing_codes(neither) == [(("SF", "ZG"), None, 1)]
    assert "SF 身份证明 or ZG 主体资格证明" in str(neither.missing[0])


def test_role_specific_requirement_needs_that_party(scheme):
    _, facts, fields = DEMO_CASES["GH"]
    others = ["SQ", "CQ", "JQ", "HT"]
    agent_only = check(scheme, "GH", others + [("SF", "agent")], facts, fields)
    assert missing_codes(agent_only) == [(("SF", "ZG"), "new_party", 1)]
    assert agent_only.unexpected_documents == ()  # SF is a document the rule knows
    assert check(scheme, "GH", others + [("SF", "new_party")], facts, fields).ok
    assert check(scheme, "GH", others + ["SF"], facts, fields).ok  # role unknown: benefit of the doubt


def test_each_document_counts_once(scheme):
    docs, facts, _ = DEMO_CASES["XZ"]
    agent = {**facts, "applicant_is_agent": True}
    one_id = check(scheme, "XZ", docs + ["WT"], agent)
    assert missing_codes(one_id) == [(("SF",), "agent", 1)]  # the owner's slot keeps the one SF
    assert check(scheme, "XZ", docs + ["WT", "SF"], agent).ok


def test_min_count_needs_that_many(scheme):
    base = ["SQ", "CQ", "ZB", "HT", "HT"]
    one = check(scheme, "FH", base + ["SF"], {"bills_settled": True})
    assert missing_codes(one) == [(("SF", "ZG"), "party", 1)]
    assert check(scheme, "FH", base + ["SF", "ZG"], {"bills_settled": True}).ok


def test_variant_follows_the_customer_class(scheme):
    lv_res_docs, _, _ = DEMO_CASES["XZ"]
    hv = check(scheme, "XZ", lv_res_docs, {"voltage_class": "HV"})
    assert hv.variant == "HV"
    assert {"ZG", "PZ", "SB", "PM", "SJ", "ZJ", "JG"} <= {m.code for m in hv.missing}


def test_suspension_does_not_apply_to_low_voltage_customers(scheme):
    docs, facts, fields = DEMO_CASES["ZT"]
    result = check(scheme, "ZT", docs, {**facts, "voltage_class": "LV"}, fields)
    assert result.documents_complete and not result.ok
    assert "voltage_class is HV" in result.not_applicable[0]


def test_unknown_document_code_is_refused(scheme):
    with pytest.raises(ValueError, match="unknown document type 'XX'"):
        check(scheme, "XH", ["SQ", "XX"])


def test_document_outside_the_rule_is_reported_as_unexpected(scheme):
    docs, facts, fields = DEMO_CASES["XH"]
    result = check(scheme, "XH", docs + ["DD"], facts, fields)
    assert result.ok and result.unexpected_documents == (("DD", None),)


# ------------------------------------------------------------------ preconditions and policy


def test_unsettled_bills_block_a_change(scheme):
    docs, facts, fields = DEMO_CASES["ZT"]
    result = check(scheme, "ZT", docs, {**facts, "bills_settled": False}, fields)
    assert [u.name for u in result.unmet_preconditions] == ["bills_settled"]
    assert not result.ok


def test_settlement_not_stated_falls_back_on_the_paper_trace(scheme):
    facts = {"voltage_class": "HV"}
    fields = {"seal_date": "2024-03-01", "unseal_date": "2024-05-01"}
    no_trace = check(scheme, "ZTH", ["SQ", "QF"], facts, fields)
    assert [u.name for u in no_trace.unmet_preconditions] == ["bills_settled"]
    with_trace = check(scheme, "ZTH", ["SQ", "QF", "JQ"], facts, fields)
    assert with_trace.ok and any("taken from document JQ" in a for a in with_trace.assumptions)


def test_rename_settlement_follows_policy(scheme):
    docs = ["SQ", ("ZG", "new_party"), "HT"]
    fields = {"previous_name": "甲厂", "new_name": "甲公司"}
    strict = check(scheme, "GM", docs, {"bills_settled": True}, fields)
    assert missing_codes(strict) == [(("JQ",), None, 1)]
    lenient_scheme = dataclasses.replace(scheme, policy={"rename_requires_settlement": False})
    lenient = check(lenient_scheme, "GM", docs, {}, fields)
    assert lenient.ok, lenient.problems()


# ------------------------------------------------------------------ billing fields


def test_suspension_requires_seal_date(scheme):
    docs, facts, fields = DEMO_CASES["ZT"]
    result = check(scheme, "ZT", docs, facts, {k: v for k, v in fields.items() if k != "seal_date"})
    assert [(i.field, i.reason) for i in result.invalid_fields] == [("seal_date", "missing required field")]
    assert not result.ok and result.documents_complete


def test_unseal_before_seal_is_rejected(scheme):
    fields = {"seal_date": "2024-03-10", "unseal_date": "2024-03-01"}
    result = check(scheme, "ZTH", ["SQ", "QF", "JQ"], {"voltage_class": "HV"}, fields)
    assert [i.field for i in result.invalid_fields] == ["unseal_date"]
    assert "before" in result.invalid_fields[0].reason and result.invalid_fields[0].severity == "error"
    assert not result.ok
    same_day = check(
        scheme,
        "ZTH",
        ["SQ", "QF", "JQ"],
        {"voltage_class": "HV"},
        {"seal_date": "2024-03-10", "unseal_date": "2024-03-10"},
    )
    assert same_day.ok


def test_eight_day_suspension_warns_under_the_fifteen_day_limit(scheme):
    docs, facts, _ = DEMO_CASES["ZT"]
    result = check(scheme, "ZT", docs, facts, {"seal_date": date(2024, 3, 1), "planned_end_date": date(2024, 3, 9)})
    warnings = [i for i in result.invalid_fields if i.severity == "warning"]
    assert [(w.limit, w.value) for w in warnings] == [("min_days_each", date(2024, 3, 9))]
    assert "8 days" in warnings[0].reason and "15" in warnings[0].reason
    assert result.ok and len(result.warnings) == 1  # a warning never blocks, until the 2024 rules are checked
    fifteen = check(scheme, "ZT", docs, facts, {"seal_date": date(2024, 3, 1), "planned_end_date": date(2024, 3, 16)})
    assert fifteen.invalid_fields == ()


def test_yearly_suspension_count_is_checked_from_facts(scheme):
    docs, facts, fields = DEMO_CASES["ZT"]
    third = check(scheme, "ZT", docs, {**facts, "suspensions_this_year": 3}, fields)
    assert [i.limit for i in third.invalid_fields] == ["max_times_per_calendar_year"]


def test_wrong_types_and_bad_identifiers_are_reported(scheme):
    docs, facts, fields = DEMO_CASES["JR"]
    result = check(scheme, "JR", docs, facts, {**fields, "capacity_before_kva": "很大", "period_start": "10/01/2024"})
    reasons = {i.field: i.reason for i in result.invalid_fields}
    assert reasons["capacity_before_kva"].startswith("wrong type: expected a number")
    assert reasons["period_start"].startswith("wrong type: expected a date")

    gh_docs, gh_facts, gh_fields = DEMO_CASES["GH"]
    bad_id = check(scheme, "GH", gh_docs, gh_facts, {**gh_fields, "new_party_id": "110105194912310021"})
    assert [i.field for i in bad_id.invalid_fields] == ["new_party_id"]
    company = check(scheme, "GH", gh_docs, gh_facts, {**gh_fields, "new_party_id": "91110000600037341L"})
    assert company.ok


def test_running_capacity_cannot_exceed_the_capacity_before(scheme):
    docs, facts, fields = DEMO_CASES["JR"]
    result = check(scheme, "JR", docs, facts, {**fields, "running_capacity_after_kva": 2000})
    assert [i.field for i in result.invalid_fields] == ["running_capacity_after_kva"]


def test_seal_date_may_be_replaced_by_a_replacement_date(scheme):
    docs, facts, fields = DEMO_CASES["JR"]
    without = {k: v for k, v in fields.items() if k != "seal_date"}
    assert [i.field for i in check(scheme, "JR", docs, facts, without).invalid_fields] == ["seal_date"]
    assert check(scheme, "JR", docs, facts, {**without, "replacement_date": "2024-01-10"}).ok


def test_list_items_are_checked(scheme):
    docs, facts, fields = DEMO_CASES["XH"]
    result = check(scheme, "XH", docs, facts, {**fields, "final_readings": [{"register": "总", "reading": "x"}]})
    assert result.invalid_fields[0].field == "final_readings"
    assert "item 1: reading" in result.invalid_fields[0].reason


def test_undeclared_billing_field_is_a_warning(scheme):
    docs, facts, fields = DEMO_CASES["XH"]
    result = check(scheme, "XH", docs, facts, {**fields, "seal_dat": "2024-01-01"})
    assert result.ok and any("seal_dat" in w for w in result.warnings)


def test_predicates_are_pure_functions_of_facts():
    assert PREDICATES["applicant_is_agent"]({"applicant_is_agent": "是"}) is True
    assert PREDICATES["applicant_is_agent"]({"applicant_is_agent": "false"}) is False
    assert PREDICATES["high_voltage_works"]({"new_voltage_class": "HV"}) is True
    assert PREDICATES["policy_rename_requires_settlement"]({"policy": {"rename_requires_settlement": False}}) is False


# ------------------------------------------------------------------ working days and due dates


def test_working_days_skip_weekends_and_holidays():
    friday = date(2024, 3, 8)
    assert add_working_days(friday, 1) == date(2024, 3, 11)
    assert add_working_days(friday, 5) == date(2024, 3, 15)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1, holidays=[date(2024, 3, 11)]) == date(2024, 3, 12)
    # 调休: a worked Saturday counts
    assert add_working_days(friday, 1, extra_workdays=[date(2024, 3, 9)]) == date(2024, 3, 9)
    with pytest.raises(ValueError):
        add_working_days(friday, -1)


def test_months_are_clipped_to_the_month_end():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)


def test_stage_documents_are_due_working_days_after_the_stage(scheme):
    thursday, friday = date(2024, 3, 7), date(2024, 3, 8)
    due = due_dates(scheme, "ZT", {"受理": thursday, "加封": friday})
    assert due == {"受理": date(2024, 3, 12), "加封": date(2024, 3, 13)}  # 3 working days each


def test_due_dates_follow_the_variant_and_refuse_unknown_stages(scheme):
    hv = due_dates(scheme, "XZ", {"设计审查": date(2024, 3, 1)}, facts={"voltage_class": "HV"})
    assert hv == {"设计审查": date(2024, 3, 15)}  # 10 working days
    with pytest.raises(KeyError, match="设计审查"):
        due_dates(
            scheme, "XZ", {"设计审查": date(2024, 3, 1)}, facts={"voltage_class": "LV", "customer_class": "residential"}
        )


def test_documents_are_reassigned_so_every_slot_can_be_filled(scheme):
    # the any_of group could take the plain SF, leaving the agent's SF slot empty;
    # moving the group onto the ZG fills both
    _, facts, fields = DEMO_CASES["XH"]
    docs = ["SQ", "SF", "ZG", "JQ", "CB", "WT"]
    result = check(scheme, "XH", docs, {**facts, "applicant_is_agent": True}, fields)
    assert result.ok, result.problems()
