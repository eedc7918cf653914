"""Document type from OCR text: which title is printed at the top of the page.

The caller passes the title hints per document type from the classification scheme (data, not
code). Matching is approximate, because OCR garbles one or two characters of a title:

- text and hints are NFKC-normalised and stripped of spaces and punctuation (Tesseract's chi_sim
  puts spaces between CJK characters; brackets in 加封（封停）工作单 are often misread);
- each hint is aligned against each line of the title region (first lines of the page) with a
  semi-global edit distance: the hint must be matched whole, the line may carry extra text
  around it (``国网××供电公司低压居民生活用电登记表``). Similarity = 1 - distance / len(hint);
- the rest of the page counts with a lower weight, so a body that merely mentions
  ``供用电合同`` cannot outvote the printed title;
- the best code must beat the best *other* code by a margin, else the answer is ``None``:
  near titles (加封工作单 / 启封工作单) differ in one character, so a garble on that character
  leaves the page unsure and the pipeline flags it instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np

from dangan.i18n import N_, kept, render
from dangan.scanning.page import PageState, PipelineOptions

__all__ = [
    "TITLE_LINES",
    "Classification",
    "classify_document",
    "classify_step",
    "continuation_evidence",
    "is_continuation",
]

TITLE_LINES = 5  # titles sit in the first lines; letterheads and form numbers may come first
_TITLE_LINE_WEIGHTS = (1.0, 1.0, 1.0, 0.95, 0.9)
_BODY_WEIGHT = 0.5  # below both acceptance thresholds: a mention in the body never classifies alone
_SENTENCE_PUNCT = re.compile("[，。；！？,;!?]")
_SENTENCE_FACTOR = 0.5  # a sentence is body text even near the top
_LABEL_LINE_FACTOR = 0.8  # 户号：… lines are fields, not titles
_LONG_TITLE_LINE = 24  # letterhead + title fit in this many characters
_LONG_LINE_FACTOR = 0.85
_ACCEPT = 0.7
_MARGIN = 0.15
_ACCEPT_WIDE = 0.6  # two garbles in a five-character title, when nothing else comes close
_MARGIN_WIDE = 0.2
_MAX_BODY_CHARS = 4000  # bound the work on very long pages
_SHORT_HINT = 3  # hints this short must match exactly

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_MATCHABLE = re.compile(f"[^{_CJK}0-9A-Za-z]")


@dataclass(frozen=True)
class Classification:
    """code: document type code, or None when unsure. score: similarity 0-1 of the best match
    (also when code is None). matched_hint: the hint that matched best. runner_up: best other
    code and its score, for the operator's screen. reason: why None, in plain English."""

    code: str | None
    score: float
    matched_hint: str | None
    runner_up: str | None = None
    runner_up_score: float = 0.0
    reason: str = ""
    why: dict[str, Any] = field(default_factory=dict, hash=False)  # the reason, kept (dangan.i18n.kept)


def _matchable(s: str) -> str:
    """NFKC, no spaces, no punctuation: what we compare."""
    return _NOT_MATCHABLE.sub("", unicodedata.normalize("NFKC", s or ""))


def _title_likeness(raw_line: str, matchable: str) -> float:
    """Titles are short and have no sentence punctuation or label colons; a sentence that merely
    names a document (用电人需提供居民身份证复印件。) must not pass for its title."""
    line = unicodedata.normalize("NFKC", raw_line)
    weight = 1.0
    if _SENTENCE_PUNCT.search(line):
        weight *= _SENTENCE_FACTOR
    elif ":" in line:
        weight *= _LABEL_LINE_FACTOR
    if len(matchable) > _LONG_TITLE_LINE:
        weight *= _LONG_LINE_FACTOR
    return weight


def _lines(text: str) -> list[tuple[str, float]]:
    """Matchable lines with their title-likeness weight, empty lines dropped."""
    out = []
    for raw in (text or "").splitlines():
        m = _matchable(raw)
        if m:
            out.append((m, _title_likeness(raw, m)))
    return out


def substring_similarity(hint: str, text: str) -> float:
    """1 - (edit distance of ``hint`` to its best-matching substring of ``text``) / len(hint).

    Semi-global alignment (Sellers): free start and end in ``text``, all of ``hint`` must align.
    """
    if not hint:
        return 0.0
    if not text:
        return 0.0
    if hint in text:
        return 1.0
    prev = [0] * (len(text) + 1)  # row 0: starting anywhere in text costs nothing
    for i, h in enumerate(hint, 1):
        cur = [i] + [0] * len(text)
        for j, t in enumerate(text, 1):
            cur[j] = min(prev[j - 1] + (h != t), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return max(0.0, 1.0 - min(prev) / len(hint))


def _title_candidates(lines: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Title-region strings with their weight: each of the first lines, and adjacent pairs
    joined (a long title OCR broke in two)."""
    head = lines[:TITLE_LINES]
    out = [(line, _TITLE_LINE_WEIGHTS[i] * like) for i, (line, like) in enumerate(head)]
    out += [
        (head[i][0] + head[i + 1][0], _TITLE_LINE_WEIGHTS[i + 1] * min(head[i][1], head[i + 1][1]))
        for i in range(len(head) - 1)
    ]
    return out


def _similarity(hint: str, text: str) -> float:
    if len(hint) <= _SHORT_HINT:  # one wrong character in two or three is noise, not a garble
        return 1.0 if hint in text else 0.0
    if not set(hint) & set(text):  # cheap pre-filter: no shared character, no match
        return 0.0
    return substring_similarity(hint, text)


def _best_for_hint(hint: str, candidates: list[tuple[str, float]], body: str) -> float:
    best = max((weight * _similarity(hint, text) for text, weight in candidates), default=0.0)
    if body:
        best = max(best, _BODY_WEIGHT * _similarity(hint, body))
    return best


def _scores(text: str, doc_types: Mapping[str, Sequence[str]]) -> list[tuple[float, str, str]]:
    """(score, code, hint) of the best hint of every code, best first."""
    lines = _lines(text)
    candidates = _title_candidates(lines)
    body = "".join(line for line, _ in lines[TITLE_LINES:])[:_MAX_BODY_CHARS]
    per_code = []
    for code, hints in doc_types.items():
        best = (0.0, code, "")
        for hint in hints:
            h = _matchable(hint)
            if len(h) < 2:
                continue
            score = _best_for_hint(h, candidates, body)
            if score > best[0]:
                best = (round(score, 3), code, hint)
        per_code.append(best)
    per_code.sort(key=lambda s: -s[0])
    return per_code


def _confident(best: float, runner_up: float) -> bool:
    margin = best - runner_up
    return (best >= _ACCEPT and margin >= _MARGIN) or (best >= _ACCEPT_WIDE and margin >= _MARGIN_WIDE)


def classify_document(text: str, doc_types: Mapping[str, Sequence[str]]) -> Classification:
    """Document type code whose title hint best matches the page, or code=None when unsure."""
    ranked = _scores(text, doc_types)
    if not ranked or ranked[0][0] == 0.0:
        why = kept(N_("no document title recognised"))
        return Classification(None, 0.0, None, reason=render(why), why=why)
    best, code, hint = ranked[0]
    second, second_code = (ranked[1][0], ranked[1][1]) if len(ranked) > 1 else (0.0, None)
    if _confident(best, second):
        return Classification(code, best, hint, second_code, second)
    if best < _ACCEPT_WIDE:
        why = kept(N_("no document title recognised (closest: {hint} at {score:.2f})"), hint=hint, score=best)
    else:
        why = kept(
            N_("unsure between {code} ({score:.2f}) and {second} ({second_score:.2f})"),
            code=code,
            score=best,
            second=second_code,
            second_score=second,
        )
    return Classification(None, best, hint, second_code, second, render(why), why)


# --- continuation pages ---------------------------------------------------------------------

_CN_NUM = "一二三四五六七八九十百零〇两0-9"
_CLAUSE_START = re.compile(f"^第[{_CN_NUM}]+[条款章节]")
_NUMBERED_START = re.compile(r"^(?:\(?[一二三四五六七八九十]{1,3}[)、.]|\([0-9]{1,2}\)|[0-9]{1,2}[.、)])")
_PAGE_MARK = re.compile(r"第\s*([0-9]+)\s*页")
_CONTINUED = re.compile(r"^(?:\(续\)|续表|续页|接上页)")
_SIGNATURE_BLOCK = re.compile(r"(甲方|乙方|供电人|用电人).{0,12}(签章|盖章|签字|签名)")


def continuation_evidence(text: str) -> str:
    """Why this page looks like the next page of the previous document ('' if it does not):
    it starts with a clause (第五条), a numbered item, '(续)', shows 第N页 with N > 1, or is a
    contract's signature page."""
    lines = [unicodedata.normalize("NFKC", line).strip() for line in (text or "").splitlines()]
    lines = [re.sub(f"(?<=[{_CJK}])\\s+(?=[{_CJK}0-9])|(?<=[0-9])\\s+(?=[{_CJK}])", "", ln) for ln in lines if ln]
    if not lines:
        return ""
    first = lines[0]
    if _CLAUSE_START.match(first):
        return f"starts with a clause ({first[:8]})"
    if _CONTINUED.match(first):
        return "marked as continued"
    if _NUMBERED_START.match(first):
        return f"starts with a numbered item ({first[:8]})"
    for line in lines:
        m = _PAGE_MARK.search(line)
        if m and int(m.group(1)) > 1:
            return f"page marker {m.group(0)}"
    head = lines[:TITLE_LINES]
    if any(_CLAUSE_START.match(line) for line in head):
        return "clauses near the top of the page"
    if any(_SIGNATURE_BLOCK.search(line) for line in lines):
        return "signature block of a contract"
    return ""


def is_continuation(text: str, doc_types: Mapping[str, Sequence[str]] | None = None) -> bool:
    """True when the page has no recognised title and looks like it continues a document."""
    if doc_types is not None and classify_document(text, doc_types).code is not None:
        return False
    return bool(continuation_evidence(text))


def classify_step(
    page: PageState, options: PipelineOptions, doc_types: Mapping[str, Sequence[str]] | None = None
) -> PageState:
    """Pipeline step: set ``doc_type``/``doc_type_score``. Hints come from ``doc_types`` or else
    ``options.doc_type_hints``. A page with no title that looks like a continuation gets
    ``metrics['continuation'] = 1.0`` (the splitter attaches it to the previous document); any
    other page left unclassified gets a 'doc_type_unknown' warning."""
    hints = doc_types if doc_types is not None else dict(options.doc_type_hints)
    result = classify_document(page.text, hints)
    title, title_confidence = document_title(page, result)
    page = replace(
        page, doc_type=result.code, doc_type_score=result.score, title=title, title_confidence=title_confidence
    )
    continuation = result.code is None and bool(continuation_evidence(page.text))
    page = replace(page, metrics={**page.metrics, "continuation": 1.0 if continuation else 0.0})
    if result.code is None and not continuation and not page.is_blank and page.text.strip():
        page = page.with_flag(
            "doc_type_unknown", "warn", N_("{why}: choose the document type for this page."), why=result.why
        )
    return page


# --- the title --------------------------------------------------------------------------------

_LETTER = re.compile(f"[{_CJK}A-Za-z]")
_MIN_TITLE_LETTERS = 2  # a title is words, never a lone mark or punctuation
_TITLE_TYPE = 1.25  # an unrecognised title stands out by being printed this much larger
_SURE_TITLE = 0.7
_CJK_CHAR = re.compile(f"[{_CJK}]")


def _clean(line: str) -> str:
    return re.sub(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])", "", unicodedata.normalize("NFKC", line).strip())[:80]


def _line_confidence(page: PageState, index: int) -> float:
    """Mean character confidence (0-1) of raw text line INDEX, 1.0 when the words are unknown."""
    confs = [w.conf for w in page.words if w.line == index]
    return sum(confs) / len(confs) / 100 if confs else 1.0


def document_title(page: PageState, result: Classification) -> tuple[str, float]:
    """The title printed on the page as it reads there, and how sure we are of it (0-1): the
    line that matched the document type's title; failing that, a short line near the top
    printed clearly larger than the rest; '' when the page has none."""
    raw = [(i, line) for i, line in enumerate((page.text or "").splitlines()) if line.strip()][:TITLE_LINES]
    if result.code is not None and result.matched_hint:
        hint = _matchable(result.matched_hint)
        spans = [([i], line) for i, line in raw] + [
            ([i, j], a + b)
            for (i, a), (j, b) in pairwise(raw)  # a title OCR broke in two
        ]
        best = max(spans, key=lambda s: (_similarity(hint, _matchable(s[1])), -len(s[1])), default=None)
        if best is not None and len(_LETTER.findall(best[1])) >= _MIN_TITLE_LETTERS:
            conf = min(_line_confidence(page, i) for i in best[0])
            return _clean(best[1]), round(result.score * conf, 3)
    # type size: the width of a CJK character (they are square; a run's box height is looser)
    heights: dict[int, list[int]] = {}
    for w in page.words:
        heights.setdefault(w.line, []).append(w.width if len(w.text) == 1 and _CJK_CHAR.match(w.text) else w.height)
    if not heights:
        return "", 0.0
    usual = float(np.median([h for hs in heights.values() for h in hs]))
    candidates = []
    for i, line in raw:
        tall = float(np.median(heights.get(i, [0])))
        matchable = _matchable(line)
        if (
            tall >= _TITLE_TYPE * usual
            and len(_LETTER.findall(line)) >= _MIN_TITLE_LETTERS
            and _title_likeness(line, matchable) == 1.0
        ):
            candidates.append((tall, i, line))
    if not candidates:
        return "", 0.0
    _tall, i, line = max(candidates)
    conf = _line_confidence(page, i)
    if conf < _SURE_TITLE:  # an unrecognised line read unsurely is more likely noise than a title
        return "", 0.0
    return _clean(line), round(0.5 * conf, 3)


# --- business type ----------------------------------------------------------------------------
# The application form (申请书) says which business the case is: 申请办理减容业务, 新装用电 …
# Only application pages vote: contracts mention every business in their clauses.
APPLICATION = "SQ"


def classify_business(text: str, names: Sequence[tuple[str, str]], title: str = "") -> str | None:
    """The business type code whose name the page body mentions most; None on a tie or
    no mention. A name inside a longer one (暂停 in 暂停恢复) counts only for the longer.
    The title names the form (暂停（减容）用电申请表 serves two businesses), so it decides only
    when the body names none and it names exactly one (销户申请表)."""
    lines = text.splitlines()
    if title and lines and _matchable(lines[0]) == _matchable(title) or not title:
        lines = lines[1:]
    found = _business_counts(re.sub(r"\s+", "", "\n".join(lines)), names)
    if not found and title:
        in_title = _business_counts(re.sub(r"\s+", "", title), names)
        found = in_title if len(in_title) == 1 else {}
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _business_counts(body: str, names: Sequence[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, code in sorted(names, key=lambda nc: -len(nc[0])):
        n = body.count(name)
        if n:
            counts[code] = counts.get(code, 0) + n
            body = body.replace(name, "\0")
    return counts


def business_step(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: on an application page, propose the case's business type."""
    if page.doc_type != APPLICATION or not options.business_type_names:
        return page
    code = classify_business(page.text, options.business_type_names, page.title)
    if code is None:
        return page
    proposal = {
        "name": "business_type",
        "value": code,
        "confidence": 0.8,
        "valid": True,
        "reason": "named in the application's text",
        "raw": "",
        "alternatives": [],
        "label": "",
    }
    return replace(page, fields={**page.fields, "business_type": proposal})
