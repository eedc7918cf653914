"""Working-day arithmetic for collection due dates ("collection follows the business").

Weekends are skipped; public holidays and the Chinese make-up working days (调休,
a Saturday or Sunday that is worked) are data passed in by the caller, because
they are announced year by year.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dangan.archive.business.scheme import ClassificationScheme


def is_working_day(day: date, holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> bool:
    if day in set(extra_workdays):
        return True
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(start: date, n: int, holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> date:
    """The date ``n`` working days after ``start`` (``start`` itself is not counted)."""
    if n < 0:
        raise ValueError(f"working days must not be negative, got {n}")
    holidays, extra = frozenset(holidays), frozenset(extra_workdays)
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays, extra):
            left -= 1
    return day


def add_months(start: date, months: int) -> date:
    """Calendar months later, clipped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(
    scheme: ClassificationScheme,
    business_type_code: str,
    stage_dates: Mapping[str, date],
    *,
    facts: Mapping[str, Any] | None = None,
    holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
) -> dict[str, date]:
    """When each reached stage's documents are due in the archive.

    A stage's documents are due ``due_working_days`` after the stage's date.
    Stages without a date (not reached yet) or without a limit are left out.
    ``facts`` choose the variant (e.g. 新装·高压 has more stages than 低压居民).
    """
    business_type = scheme.business_type(business_type_code)
    rule = business_type.choose_variant(facts or {}).rule
    declared = {stage.name for stage in rule.stages}
    unknown = [name for name in stage_dates if name not in declared]
    if unknown:
        raise KeyError(
            f"{rule.name} has no stage {', '.join(map(repr, unknown))}; "
            f"stages: {', '.join(s.name for s in rule.stages)}"
        )
    holidays, extra = frozenset(holidays), frozenset(extra_workdays)
    return {
        stage.name: add_working_days(stage_dates[stage.name], stage.due_working_days, holidays, extra)
        for stage in rule.stages
        if stage.name in stage_dates and stage_dates[stage.name] is not None and stage.due_working_days is not None
    }


__all__ = ["add_months", "add_working_days", "due_dates", "is_working_day"]
