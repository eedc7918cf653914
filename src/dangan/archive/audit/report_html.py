"""Reports as one self-contained HTML page: inline CSS and SVG charts, no scripts, no
network, laid out to print on A4 (an auditor signs the printed copy)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from dangan.archive.audit.reports import Report
from dangan.archive.audit.reports.base import about_lines, display_cell, status_line
from dangan.i18n import N_, _, count, current_language

CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; font-size: 10pt;
       color: #111; margin: 1.5em; }
h1 { font-size: 15pt; margin: 0 0 .3em; } h2 { font-size: 12pt; margin: 1.2em 0 .3em; }
h3 { font-size: 10.5pt; margin: 1em 0 .2em; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; }
th, td { border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #eee; } td.number { white-space: nowrap; }
td.bad { color: #a00; font-weight: bold; } td.good { color: #060; }
.about td { border: none; padding: 0 8px 0 0; } .status { font-weight: bold; }
.status.fail { color: #a00; } .status.pass { color: #060; } .note { color: #444; font-size: 9pt; }
.sign { margin-top: 2em; } .sign span { display: inline-block; width: 45%; border-top: 1px solid #000;
       margin-right: 4%; padding-top: 2px; font-size: 9pt; }
svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 15mm 12mm; }
@media print { body { margin: 0; font-size: 9pt; } section.report { page-break-after: always; }
  section.report:last-child { page-break-after: auto; } tr, svg { page-break-inside: avoid; }
  thead { display: table-header-group; } }
"""


def render_html(reports: Iterable[Report], *, title: str | None = None) -> str:
    """The page in the current language (``<html lang>`` says which)."""
    reports = list(reports)
    body = "\n".join(_report(r) for r in reports)
    lang = current_language().replace("_", "-")
    title = escape(title or _("dangan audit reports"))
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{CSS}</style></head><body>\n{body}\n"
        "</body></html>\n"
    )


CHART_TITLES = {
    "completeness_by_business_type": N_("Completeness by business type"),
    "pages_cumulative": N_("Pages scanned per day and in total"),
}


def chart_title(name: str) -> str:
    return _(CHART_TITLES[name]) if name in CHART_TITLES else name.replace("_", " ")


def _report(r: Report) -> str:
    status = "pass" if r.ok else "fail"
    parts = [
        f'<section class="report"><h1>{escape(r.title)}</h1>',
        '<table class="about">'
        + "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in about_lines(r.about))
        + "</table>",
        f'<p class="status {status}">{escape(status_line(r))}</p>',
    ]
    for name, series in r.charts.items():
        svg = CHARTS.get(name)
        if svg and series:
            parts.append(f"<h2>{escape(chart_title(name))}</h2>{svg(series)}")
    for s in r.sections:
        titled = _("{title} ({n})").format(title=s.title, n=len(s.rows))
        parts.append(f"<h2>{escape(titled)}</h2>")
        if not s.rows:
            none = escape(_("none"))
            parts.append(f'<p class="note">{none}</p>')
            continue
        head = "".join(f"<th>{escape(h)}</th>" for h in s.headings)
        body = "".join("<tr>" + "".join(_td(c, row.get(c), row) for c in s.columns) + "</tr>" for row in s.rows)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts += [f'<p class="note">{escape(n)}</p>' for n in r.notes]
    signed, day = escape(_("checked by (signature)")), escape(_("date"))
    parts.append(f'<div class="sign"><span>{signed}</span><span>{day}</span></div></section>')
    return "\n".join(parts)


def _td(column: str, value: Any, row: dict[str, Any]) -> str:
    cls = ""
    if column == "ok":
        cls = ' class="good"' if value else ' class="bad"'
    numbers = ' class="number"' if column in ("number", "record", "records", "like_record", "work_order") else ""
    text = "<br>".join(escape(line) for line in display_cell(column, value, row))
    return f"<td{cls or numbers}>{text}</td>"


# --------------------------------------------------------------------------- charts (inline SVG)


def stacked_bars(series: list[tuple[str, int, int]], *, good: str | None = None, bad: str | None = None) -> str:
    """Horizontal bars, one per label: GOOD (green) then BAD (red)."""
    good = good or _("complete")
    bad = bad or _("incomplete")
    width, label_w, bar_h, gap = 640, 170, 16, 6
    top = max((g + b for _, g, b in series), default=0) or 1
    scale = (width - label_w - 60) / top
    h = len(series) * (bar_h + gap) + 30
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" '
            f'height="{h}" role="img" font-size="11">'
        )
    ]
    for i, (label, g, b) in enumerate(series):
        y = i * (bar_h + gap)
        out.append(f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{g * scale:.1f}" height="{bar_h}" fill="#3a3"/>')
        out.append(
            f'<rect x="{label_w + g * scale:.1f}" y="{y}" width="{b * scale:.1f}" height="{bar_h}" fill="#c33"/>'
        )
        out.append(f'<text x="{label_w + (g + b) * scale + 4:.1f}" y="{y + bar_h - 4}">{g}/{g + b}</text>')
    y = len(series) * (bar_h + gap) + 14
    out.append(
        f'<rect x="{label_w}" y="{y - 9}" width="10" height="10" fill="#3a3"/>'
        f'<text x="{label_w + 14}" y="{y}">{escape(good)}</text>'
        f'<rect x="{label_w + 100}" y="{y - 9}" width="10" height="10" fill="#c33"/>'
        f'<text x="{label_w + 114}" y="{y}">{escape(bad)}</text></svg>'
    )
    return "".join(out)


def progress_chart(series: list[tuple[str, int, int]]) -> str:
    """Pages per day (bars) and the running total (line) over time."""
    width, height, left, bottom = 640, 220, 50, 30
    n = len(series)
    top_day = max((p for _, p, _ in series), default=0) or 1
    top_total = max((t for _, _, t in series), default=0) or 1
    plot_w, plot_h = width - left - 50, height - bottom - 10
    step = plot_w / max(n, 1)
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" font-size="10">'
        ),
        f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" y2="{10 + plot_h}" stroke="#000"/>',
        f'<text x="{left - 4}" y="14" text-anchor="end">{top_day}</text>',
        f'<text x="{left + plot_w + 4}" y="14" fill="#036">{top_total}</text>',
    ]
    points = []
    for i, (day, pages, total) in enumerate(series):
        x = left + i * step
        bh = pages / top_day * plot_h
        out.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{10 + plot_h - bh:.1f}" width="{step * 0.7:.1f}" '
            f'height="{bh:.1f}" fill="#9bd"><title>{escape(day)}: {escape(count(pages, "page"))}</title></rect>'
        )
        points.append(f"{x + step / 2:.1f},{10 + plot_h - total / top_total * plot_h:.1f}")
        if n <= 12 or i in (0, n - 1) or i % max(1, n // 6) == 0:
            out.append(f'<text x="{x + step / 2:.1f}" y="{height - 12}" text-anchor="middle">{escape(day[5:])}</text>')
    out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#036" stroke-width="2"/>')
    legend = _("bars: pages per day · line: pages in total")
    out.append(f'<text x="{left}" y="{height - 1}">{escape(legend)}</text></svg>')
    return "".join(out)


CHARTS = {"completeness_by_business_type": stacked_bars, "pages_cumulative": progress_chart}

__all__ = ["chart_title", "progress_chart", "render_html", "stacked_bars"]
