"""Names people read for the codes the archive stores: what happened to a file, a record's
status, where the paper is, a page's QA state, an event's kind, a location's kind. The codes
stay English and stable (JSON, CSV, the event log); ``display_name`` gives the words in the
current language. Business and document types have their names in the classification scheme
(``archive.scheme``), not here."""

from __future__ import annotations

from dangan.i18n import N_, _

NAMES: dict[str, dict[str, str]] = {
    "folder_status": {
        "accessioned": N_("accessioned"),
        "skipped": N_("skipped"),
        "quarantined": N_("quarantined"),
    },
    "record_status": {"active": N_("active"), "void": N_("void"), "disposed": N_("disposed")},
    "paper_state": {
        "in_place": N_("in place"),
        "in_handover": N_("in handover"),
        "out_for_digitisation": N_("out for digitisation"),
        "on_loan": N_("on loan"),
        "misplaced": N_("misplaced"),
        "missing": N_("missing"),
        "destroyed": N_("destroyed"),
    },
    "qa_status": {
        "ok": N_("ok"),
        "flagged": N_("to check"),
        "accepted": N_("accepted"),
        "rescanned": N_("rescanned"),
    },
    "job_state": {
        "queued": N_("queued"),
        "scanning": N_("scanning"),
        "indexing": N_("indexing"),
        "done": N_("done"),
        "failed": N_("failed"),
    },
    "stocktake_status": {
        "in place": N_("in place"),
        "misplaced": N_("misplaced"),
        "unexpected": N_("unexpected"),
        "missing": N_("missing"),
        "on loan": N_("on loan"),
    },
    "case_status": {"open": N_("open"), "closed": N_("closed")},
    "location_kind": {
        "room": N_("room"),
        "zone": N_("zone"),
        "rack": N_("rack"),
        "cabinet": N_("cabinet"),
        "shelf": N_("shelf"),
        "box": N_("box"),
        "folder": N_("folder"),
    },
    "event_type": {
        "access": N_("access"),
        "account number change": N_("account number change"),
        "born digital": N_("born digital"),
        "business import": N_("business import"),
        "capture": N_("capture"),
        "case closed": N_("case closed"),
        "case link": N_("case link"),
        "case link proposed": N_("case link proposed"),
        "disposal": N_("disposal"),
        "export": N_("export"),
        "fixity check": N_("fixity check"),
        "format identification": N_("format identification"),
        "ingestion": N_("ingestion"),
        "label print": N_("label print"),
        "loan issued": N_("loan issued"),
        "loan returned": N_("loan returned"),
        "location change": N_("location change"),
        "log-in": N_("log-in"),
        "log-in failed": N_("log-in failed"),
        "log-out": N_("log-out"),
        "message digest calculation": N_("message digest calculation"),
        "metadata modification": N_("metadata modification"),
        "number voided": N_("number voided"),
        "paper state change": N_("paper state change"),
        "quarantine": N_("quarantine"),
        "registration": N_("registration"),
        "search": N_("search"),
        "search refused": N_("search refused"),
        "folder split": N_("folder split"),
        "stock-take": N_("stock-take"),
        "user administration": N_("user administration"),
    },
}


def display_name(kind: str, code: str | None) -> str:
    """CODE of KIND (a key of NAMES) in words, in the current language; an unknown code as it is."""
    if not code:
        return ""
    name = NAMES.get(kind, {}).get(code)
    return _(name) if name else code
