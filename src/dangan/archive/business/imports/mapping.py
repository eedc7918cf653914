"""The column mapping (``schemas/import-mapping.yaml``): which export column is which field, per
flavour of business system, checked against its JSON Schema and the classification scheme."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from dangan import SCHEMAS_DIR
from dangan.archive.business.predicates import PREDICATES
from dangan.archive.business.scheme import ClassificationScheme
from dangan.errors import DanganError
from dangan.i18n import _

DEFAULT_MAPPING_PATH = SCHEMAS_DIR / "import-mapping.yaml"
MAPPING_SCHEMA_PATH = SCHEMAS_DIR / "import-mapping.schema.json"
DEFAULT_FLAVOUR = "sg186"
BUSINESS_IMPORT = "business import"
KINDS = ("customers", "cases")
CUSTOMER_FIELDS = ("name", "address", "voltage_class", "customer_class", "id_number")
CASE_FIELDS = (
    "customer_id",
    "business_type",
    "department",
    "status",
    "accepted_on",
    "stage_dates",
    "billing_fields",
    "facts",
)
EARLIEST_YEAR = 1980
MAX_PROBLEMS_KEPT = 1000

Progress = Callable[[int, "int | None"], None]


class ImportFileError(DanganError, ValueError):
    """The whole file cannot be imported (unreadable, wrong mapping, missing columns)."""


class MappingError(DanganError, ValueError):
    """The import mapping is malformed or names things the classification scheme lacks."""


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class KindMapping:
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    billing_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    facts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportMapping:
    name: str
    description: str
    customers: KindMapping
    cases: KindMapping
    values: Mapping[str, Mapping[str, str]]
    source: str

    def kind(self, kind: str) -> KindMapping:
        if kind not in KINDS:
            raise ValueError(f"unknown import kind {kind!r}; kinds: {', '.join(KINDS)}")
        return getattr(self, kind)


def load_mapping(name_or_path: str | Path | None = None, scheme: ClassificationScheme | None = None) -> ImportMapping:
    """A flavour of the shipped mapping (``"sg186"``), or a YAML file of a site's own
    (``PATH`` with one flavour, or ``PATH#FLAVOUR``). Checked against its JSON Schema and,
    if SCHEME is given, against the scheme's stages, billing fields and facts."""
    spec = str(name_or_path or DEFAULT_FLAVOUR)
    path_part, _hash, flavour = spec.partition("#")
    candidate = Path(path_part)
    if candidate.suffix.lower() in (".yaml", ".yml") or candidate.exists():
        path = candidate
    else:
        path, flavour = DEFAULT_MAPPING_PATH, spec
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(_("mapping file {path} not found").format(path=path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(_("mapping file {path} is not valid UTF-8 YAML: {exc}").format(path=path, exc=exc)) from None
    schema = json.loads(MAPPING_SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(map(str, e.absolute_path)) or "(top)"
        raise MappingError(
            _("mapping file {path}: at {where}: {message}").format(path=path, where=where, message=e.message)
        )
    flavours = data["flavours"]
    if not flavour:
        if len(flavours) != 1:
            raise MappingError(
                _("mapping file {path} has flavours {choices}: name one as {path}#FLAVOUR").format(
                    path=path, choices=", ".join(flavours)
                )
            )
        flavour = next(iter(flavours))
    if flavour not in flavours:
        raise MappingError(
            _("no mapping flavour {flavour!r} in {path}; flavours: {choices}").format(
                flavour=flavour, path=path, choices=", ".join(flavours)
            )
        )
    body = flavours[flavour]

    def kind(k: str) -> KindMapping:
        b = body[k]
        tup = lambda m: {key: tuple(v) for key, v in (m or {}).items()}
        return KindMapping(
            tup(b["columns"]),
            tuple(b["required"]),
            tup(b.get("stages")),
            tup(b.get("billing_fields")),
            tup(b.get("facts")),
        )

    mapping = ImportMapping(
        flavour,
        body.get("description", ""),
        kind("customers"),
        kind("cases"),
        {k: dict(v) for k, v in (body.get("values") or {}).items()},
        str(path),
    )
    for k in KINDS:
        unknown = [f for f in mapping.kind(k).required if f not in mapping.kind(k).columns]
        if unknown:
            raise MappingError(
                _("mapping {flavour}: {k}.required names {choices}, which have no columns").format(
                    flavour=flavour, k=k, choices=", ".join(unknown)
                )
            )
    if scheme is not None:
        _check_against_scheme(mapping, scheme)
    return mapping


def _check_against_scheme(mapping: ImportMapping, scheme: ClassificationScheme) -> None:

    stages = {s.name for bt in scheme.business_types.values() for v in bt.variants for s in v.stages}
    fields = {n: s for bt in scheme.business_types.values() for n, s in bt.billing_fields.items()}
    problems = [f"stage {s!r} is not a stage of any business type" for s in mapping.cases.stages if s not in stages]
    problems += [
        f"billing field {f!r} is not declared by any business type"
        for f in mapping.cases.billing_fields
        if f not in fields
    ]
    problems += [
        f"billing field {f!r} is a list; lists cannot come from one column"
        for f in mapping.cases.billing_fields
        if f in fields and fields[f].type == "list"
    ]
    problems += [
        f"fact {f!r} is not read by any predicate"
        for f in mapping.cases.facts
        if not any(f in p.reads for p in PREDICATES.values())
    ]
    for name, code in mapping.values.get("business_type", {}).items():
        try:
            scheme.business_type(code)
        except KeyError as exc:
            problems.append(f"values.business_type[{name}]: {exc.args[0]}")
    if problems:
        raise MappingError(
            f"mapping {mapping.name} ({mapping.source}) does not fit the classification scheme: " + "; ".join(problems)
        )
