"""The classification scheme: the shipped file loads, broken files are refused
with the file and line named, and lookups work by code and by Chinese name."""

import dataclasses
import json

import pytest

from dangan.archive.business.predicates import PREDICATES, VALIDATORS
from dangan.archive.business.scheme import DEFAULT_SCHEME_PATH, SchemeError, load_scheme
from dangan.archive.business.scheme_checks import JSON_SCHEMA_PATH

SHIPPED = DEFAULT_SCHEME_PATH.read_text(encoding="utf-8")

ALL_BUSINESS_TYPES = {
    "XZ",
    "ZR",
    "LS",
    "JR",
    "JRH",
    "ZT",
    "ZTH",
    "ZH",
    "ZHH",
    "ZC",
    "FZ",
    "GM",
    "GH",
    "YB",
    "QZ",
    "FH",
    "BH",
    "GYA",
    "GL",
    "XH",
    "QT",
}
ALL_DOCUMENT_TYPES = {
    "SQ",
    "SF",
    "ZG",
    "WT",
    "CQ",
    "PZ",
    "SB",
    "PM",
    "KC",
    "FA",
    "FY",
    "SJ",
    "ZJ",
    "JG",
    "HT",
    "DD",
    "ZB",
    "JQ",
    "FT",
    "QF",
    "CB",
    "SM",
    "DG",
}
# shared convention: the demo's mandatory sets
DEMO_MANDATORY = {
    "XZ": {"SQ", "SF", "CQ", "KC", "FA", "HT", "ZB"},
    "ZT": {"SQ", "ZG", "JQ", "FT"},
    "GH": {"SQ", "SF", "CQ", "JQ", "HT"},
    "XH": {"SQ", "SF", "JQ", "CB"},
    "JR": {"SQ", "ZG", "JQ", "FT"},
}


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


# ------------------------------------------------------------------ the shipped scheme


def test_shipped_scheme_loads_with_every_listed_type(scheme):
    assert scheme.version == 1
    assert scheme.category.code == "KH"
    assert set(scheme.business_types) == ALL_BUSINESS_TYPES
    assert set(scheme.document_types) == ALL_DOCUMENT_TYPES
    assert {c: r.years for c, r in scheme.retention_codes.items()} == {"Y": None, "D30": 30, "D10": 10}
    assert scheme.policy["rename_requires_settlement"] is True


def test_titles_printed_on_first_pages_are_ocr_hints(scheme):
    assert "低压居民生活用电登记表" in scheme.document_type("SQ").ocr_hints
    assert "暂停（减容）用电申请表" in scheme.document_type("SQ").ocr_hints
    assert "营业执照（副本）复印件" in scheme.document_type("ZG").ocr_hints
    assert "不动产权证书" in scheme.document_type("CQ").ocr_hints
    assert scheme.document_type("SF").validators == ("cn_ric",)
    assert scheme.document_type("ZG").validators == ("cn_uscc",)


@pytest.mark.parametrize("code", sorted(DEMO_MANDATORY))
def test_demo_types_default_rules_need_exactly_the_demo_set(scheme, code):
    rule = scheme.business_type(code).choose_variant({}).rule
    mandatory = {req.doc_types[0] for req in rule.documents if req.rule == "mandatory"}
    assert mandatory == DEMO_MANDATORY[code]


def test_json_schema_validator_list_matches_the_code_registry():
    schema = json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert set(schema["$defs"]["validator"]["enum"]) == set(VALIDATORS)


def test_every_predicate_named_in_the_shipped_file_is_registered(scheme):
    named = {
        req.when for bt in scheme.business_types.values() for rule in bt.variants for req in rule.documents if req.when
    }
    named |= {p.predicate for bt in scheme.business_types.values() for p in bt.preconditions}
    assert named and named <= set(PREDICATES)


def test_scheme_objects_are_frozen(scheme):
    with pytest.raises(dataclasses.FrozenInstanceError):
        scheme.business_type("ZT").name = "暂拆"
    with pytest.raises(TypeError):
        scheme.business_types["ZT"] = None


# ------------------------------------------------------------------ lookups


@pytest.mark.parametrize(
    "key, code",
    [
        ("ZT", "ZT"),
        ("zt", "ZT"),
        ("暂停", "ZT"),
        ("暂拆", "ZC"),
        ("更名", "GM"),
        ("过户", "GH"),
        ("新装·高压", "XZ"),
        ("销户", "XH"),
    ],
)
def test_business_type_by_code_or_name(scheme, key, code):
    assert scheme.business_type(key).code == code


def test_document_type_by_code_or_name(scheme):
    assert scheme.document_type("JQ").name == "电费结清证明"
    assert scheme.document_type("电费结清证明").code == "JQ"


def test_unknown_business_type_lists_close_matches(scheme):
    with pytest.raises(KeyError) as error:
        scheme.business_type("暂亭")
    assert "暂亭" in str(error.value) and "暂停" in str(error.value)
    with pytest.raises(KeyError, match="ZT"):
        scheme.business_type("ZX")


def test_variant_chosen_by_facts(scheme):
    xz = scheme.business_type("XZ")
    assert xz.choose_variant({"voltage_class": "HV"}).rule.key == "HV"
    assert xz.choose_variant({"voltage_class": "LV", "customer_class": "non_residential"}).rule.key == "LV_NONRES"
    unknown = xz.choose_variant({})
    assert unknown.rule.key == "LV_RES" and unknown.assumptions
    hv = xz.variant("HV")
    assert {"SJ", "ZJ", "PM"} <= {r.doc_types[0] for r in hv.documents if r.rule == "mandatory"}


# ------------------------------------------------------------------ broken files


def _write_variant(tmp_path, old, new, count=1):
    assert old in SHIPPED, f"test fixture out of date: {old!r} not in the shipped scheme"
    text = SHIPPED.replace(old, new, count)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _line_of(text, marker):
    """The last line holding marker: for duplicates, the second definition is the fault."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if marker in line][-1]


BROKEN = [
    # (what, old, new, marker on the expected line, words in the message)
    (
        "unknown document type",
        "{ type: FT, rule: mandatory, stage: 加封 }",
        "{ type: XX, rule: mandatory, stage: 加封 }",
        "type: XX",
        "unknown document type code 'XX'",
    ),
    ("unknown any_of member", "any_of: [FT, ZB]", "any_of: [FT, ZQ]", "[FT, ZQ]", "unknown document type code 'ZQ'"),
    ("unknown predicate", "when: fees_charged", "when: fee_charged", "fee_charged", "unknown predicate 'fee_charged'"),
    (
        "unknown precondition predicate",
        "{ predicate: bills_settled, evidence: [JQ] }",
        "{ predicate: bill_paid, evidence: [JQ] }",
        "bill_paid",
        "unknown predicate 'bill_paid'",
    ),
    (
        "unknown retention code",
        "retention: { code: D10, trigger: case_closed }",
        "retention: { code: D15, trigger: case_closed }",
        "D15",
        "unknown retention code 'D15'",
    ),
    (
        "undeclared stage",
        "{ type: FT, rule: mandatory, stage: 加封 }",
        "{ type: FT, rule: mandatory, stage: 封停 }",
        "stage: 封停",
        "stage '封停' is referenced but not declared",
    ),
    (
        "unknown role",
        "role: new_party, stage: 受理, note: 新名称",
        "role: buyer, stage: 受理, note: 新名称",
        "role: buyer",
        "unknown role 'buyer'",
    ),
    (
        "duplicate document type code",
        "\nbusiness_types:\n",
        "  SQ:\n    name: 另一申请书\n\nbusiness_types:\n",
        "  SQ:",
        "duplicate key 'SQ'",
    ),
    ("duplicate business type code", "\n  YB:\n", "\n  GH:\n    name: 过户二\n  YB:\n", "  GH:", "duplicate key 'GH'"),
    (
        "duplicate name",
        "    name: 项目批准文件\n",
        "    name: 用电申请书\n",
        "name: 用电申请书",
        "duplicate name '用电申请书'",
    ),
    (
        "field rule names undeclared field",
        "not_before: seal_date, label: 启封日期 }",
        "not_before: sealdate, label: 启封日期 }",
        "sealdate",
        "undeclared field 'sealdate'",
    ),
    (
        "schema violation",
        "{ type: SQ, rule: mandatory, stage: 受理 }",
        "{ type: SQ, rule: mandtory, stage: 受理 }",
        "mandtory",
        "mandtory",
    ),
    (
        "conditional without when",
        "{ type: PZ, rule: conditional, when: government_project, stage: 受理 }",
        "{ type: PZ, rule: conditional, stage: 受理 }",
        "{ type: PZ, rule: conditional, stage: 受理 }",
        "'when' is a required property",
    ),
    ("yaml syntax", "schema_version: 1", "schema_version: [1", "schema_version: [1", "not valid YAML"),
]


@pytest.mark.parametrize("what, old, new, marker, words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_scheme_names_file_and_line(tmp_path, what, old, new, marker, words):
    path, text = _write_variant(tmp_path, old, new)
    with pytest.raises(SchemeError) as error:
        load_scheme(path)
    message = str(error.value)
    assert words in message
    assert str(path) in message
    if what != "yaml syntax":  # the YAML parser reports where it gave up, not where the typo is
        assert error.value.line == _line_of(text, marker)
        assert f"{path}:{error.value.line}:" in message


def test_missing_file_is_a_scheme_error(tmp_path):
    with pytest.raises(SchemeError, match="file not found"):
        load_scheme(tmp_path / "nope.yaml")


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    text = SHIPPED.replace("when: fees_charged", "when: fee_charged")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as error:
        load_scheme(path)
    assert len(error.value.problems) == text.count("when: fee_charged")
    assert len(error.value.problems) > 1
