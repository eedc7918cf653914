"""The CLOSED registries the classification scheme may name: predicates for ``when:`` (is a
conditional document required for this case?) and validators for identifiers. Nothing
uses ``eval``: a rule can only name a predicate that exists here, and the scheme loader
refuses any other name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dangan.archive.identifiers import validate_account_number, validate_ric, validate_uscc, validate_work_order

CaseFacts = Mapping[str, Any]
"""What is known about a case: flags (``applicant_is_agent``), customer attributes
(``voltage_class``: LV|HV, ``customer_class``: residential|non_residential),
counters (``suspensions_this_year``). The evaluator adds ``policy`` from the scheme."""


# --------------------------------------------------------------------------- predicates


@dataclass(frozen=True)
class Predicate:
    name: str
    reads: tuple[str, ...]  # fact keys it looks at
    description: str
    test: Callable[[CaseFacts], bool]

    def __call__(self, facts: CaseFacts) -> bool:
        return self.test(facts)

    def is_known(self, facts: CaseFacts) -> bool:
        """False when none of the facts it reads were given (so the answer is a default)."""
        return any(facts.get(key) is not None for key in self.reads)


PREDICATES: dict[str, Predicate] = {}


def _predicate(name: str, description: str, reads: tuple[str, ...] | None = None):
    def register(test: Callable[[CaseFacts], bool]) -> Callable[[CaseFacts], bool]:
        PREDICATES[name] = Predicate(name, reads or (name,), description, test)
        return test

    return register


def flag(facts: CaseFacts, key: str) -> bool:
    """A yes/no fact; forms send strings, so accept the usual spellings."""
    value = facts.get(key)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "是"}
    return bool(value)


@_predicate("applicant_is_agent", "an agent (经办人) applies on the customer's behalf")
def _applicant_is_agent(facts: CaseFacts) -> bool:
    return flag(facts, "applicant_is_agent")


@_predicate("fees_charged", "business fees were charged for this case")
def _fees_charged(facts: CaseFacts) -> bool:
    return flag(facts, "fees_charged")


@_predicate("government_project", "the project is subject to government approval (核准/备案)")
def _government_project(facts: CaseFacts) -> bool:
    return flag(facts, "government_project")


@_predicate("dispatch_managed", "the customer is under grid dispatch (调度) management")
def _dispatch_managed(facts: CaseFacts) -> bool:
    return flag(facts, "dispatch_managed")


@_predicate("old_owner_data_unavailable", "the previous owner's documents cannot be obtained (过户)")
def _old_owner_data_unavailable(facts: CaseFacts) -> bool:
    return flag(facts, "old_owner_data_unavailable")


@_predicate(
    "high_voltage_works",
    "the change involves high-voltage receiving works",
    reads=("high_voltage_works", "new_voltage_class"),
)
def _high_voltage_works(facts: CaseFacts) -> bool:
    return flag(facts, "high_voltage_works") or facts.get("new_voltage_class") == "HV"


@_predicate("customer_is_non_residential", "the customer class is non-residential", reads=("customer_class",))
def _customer_is_non_residential(facts: CaseFacts) -> bool:
    return facts.get("customer_class") == "non_residential"


@_predicate("ownership_unclear", "ownership of the meter position is unclear (移表)")
def _ownership_unclear(facts: CaseFacts) -> bool:
    return flag(facts, "ownership_unclear")


@_predicate(
    "relocation_needs_new_scheme",
    "迁址 off the original supply point, or with more capacity: a new supply scheme is needed",
    reads=("new_site_off_supply_point", "capacity_increased"),
)
def _relocation_needs_new_scheme(facts: CaseFacts) -> bool:
    return flag(facts, "new_site_off_supply_point") or flag(facts, "capacity_increased")


@_predicate("site_survey_performed", "a site survey checked the changed use (改类)")
def _site_survey_performed(facts: CaseFacts) -> bool:
    return flag(facts, "site_survey_performed")


@_predicate("had_arrears", "the accounts had arrears when the change was applied for")
def _had_arrears(facts: CaseFacts) -> bool:
    return flag(facts, "had_arrears")


@_predicate("bills_settled", "bills and penalties are settled (结清电费及违约金)")
def _bills_settled(facts: CaseFacts) -> bool:
    return flag(facts, "bills_settled")


@_predicate("policy_rename_requires_settlement", "company policy: 更名 needs settled bills", reads=("policy",))
def _policy_rename_requires_settlement(facts: CaseFacts) -> bool:
    return bool((facts.get("policy") or {}).get("rename_requires_settlement", True))


# --------------------------------------------------------------------------- validators

# Names the scheme may use under ``validators:``. Each takes the text and returns its
# normalised form or raises ``InvalidIdentifier`` (a ValueError) with a plain reason;
# the checks themselves live in archive.identifiers (one way to do each thing).
VALIDATORS: dict[str, Callable[[str], str]] = {
    "cn_ric": validate_ric,  # 居民身份证号, GB 11643 (ISO 7064 MOD 11-2)
    "cn_uscc": validate_uscc,  # 统一社会信用代码, GB 32100
    "account_no": validate_account_number,  # 户号, 10 digits
    "work_order_no": validate_work_order,  # 工单编号, YYYYMMDD + 8-digit serial
}


def identifier_failure(value: str, names: Iterable[str]) -> str | None:
    """None if any one named validator accepts ``value`` (an ID may be a person's or a company's)."""
    reasons = []
    for name in names:
        try:
            VALIDATORS[name](value)
            return None
        except ValueError as exc:
            reasons.append(str(exc))
    return "; or ".join(reasons)
