"""The one-page A4 landscape PDF report.

An HTML page (fixed 297 × 210 mm, nothing loaded from anywhere: the map and the area
chart are SVGs rendered by kaleido and embedded as ``data:`` images, the town timeline
is an SVG drawn here) printed by the same warm headless Chromium that renders the
images (:meth:`~dashboard.export.images.Chrome.print_pdf`). What it holds: the map, the
Russian-held area over time with the date marked, the per-oblast change table (the
compare window, or the 30 days before the date), the town's status timeline and the
sourced notes about it with their citations (and the engine's verdict when
``dashboard.analytics.claims`` is available), and the caption.
"""
from __future__ import annotations

import base64
import html as htmllib
from datetime import date, timedelta
from pathlib import Path

from .. import vocab
from ..vocab import rgba
from .common import COLORS, STATUS_COLORS, STATUS_LABELS, ExportError, Snapshot, held_summary

#: Days before the date used for the oblast table when no compare date is given.
DEFAULT_WINDOW_DAYS = 30
MAX_NOTES = 4
MAX_SUMMARY = 420
#: Lines of note text the right column holds under the chart and the table, and characters a line.
NOTE_LINES = 20
CHARS_PER_LINE = 72
MAX_OBLAST_ROWS = 8

_CSS = """
@page { size: 297mm 210mm; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; width: 297mm; height: 210mm; overflow: hidden; background: #fff; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1f2933; font-size: 8.6pt; }
.page { width: 297mm; height: 209mm; padding: 7mm 8mm 5mm; overflow: hidden; display: grid;
        grid-template-columns: 165mm 1fr; grid-template-rows: auto minmax(0, 1fr) auto;
        column-gap: 6mm; row-gap: 2.5mm; }
header { grid-column: 1 / 3; border-bottom: 2px solid #1f2933; padding-bottom: 1.5mm; }
h1 { font-size: 15pt; margin: 0; }
.sub { color: #4a5560; font-size: 9.5pt; margin-top: 0.8mm; }
.warn { display: inline-block; background: #fff1e0; color: #8a4b00; border: 1px solid #e6a15a; border-radius: 2px;
        padding: 0.5mm 2mm; margin-top: 1mm; font-size: 8.5pt; }
.left, .right { overflow: hidden; min-height: 0; }
.left img { width: 165mm; display: block; }
h2 { font-size: 9.5pt; margin: 0 0 1mm; text-transform: uppercase; letter-spacing: .03em; color: #3e4c59; }
section { margin-bottom: 4mm; }
section > p { margin: 1.2mm 0 0; line-height: 1.3; }
.right section + section { padding-top: 2mm; }
.right img { width: 100%; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; }
th, td { padding: 0.45mm 1.2mm; border-bottom: 1px solid #e3e7eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: #4a5560; font-weight: normal; border-bottom: 1px solid #a3abb4; white-space: normal; vertical-align: bottom;
     line-height: 1.15; }
tr.total td { font-weight: bold; border-top: 1px solid #a3abb4; }
.muted { color: #6b7785; }
.note { margin: 0 0 1.4mm; line-height: 1.28; font-size: 7.8pt; }
.note .cite { color: #4a5560; }
.verdict { display: inline-block; padding: 0 1.2mm; border-radius: 2px; background: #e9ecf0; font-size: 7.4pt; }
footer { grid-column: 1 / 3; border-top: 1px solid #a3abb4; padding-top: 1.2mm; font-size: 7.1pt; color: #3e4c59;
         line-height: 1.35; }
.legend span { display: inline-block; width: 3mm; height: 3mm; margin: 0 1mm 0 2.5mm; vertical-align: -0.5mm; }
"""


def _esc(text) -> str:
    return htmllib.escape(str(text), quote=True)


def _img(data: bytes, mime: str = "image/svg+xml") -> str:
    return f"<img alt='' src='data:{mime};base64,{base64.b64encode(data).decode()}'>"


def area_chart(store, snap: Snapshot, width: int = 620, height: int = 250):
    """Russian-held km² over every day, the date marked, the compare window shaded."""
    import plotly.graph_objects as go

    days = store.days
    x = [str(d) for d in days.index]
    fig = go.Figure(go.Scatter(x=x, y=days["russian_held_km2"].round(0), mode="lines",
                               line=dict(color=COLORS["occupied"], width=2), name="Russian-held"))
    shapes = [dict(type="line", xref="x", yref="paper", x0=str(snap.day), x1=str(snap.day), y0=0, y1=1,
                   line=dict(color="#111", width=1.5, dash="dot"))]
    if snap.window:
        a, b = snap.window
        shapes.insert(0, dict(type="rect", xref="x", yref="paper", x0=str(a), x1=str(b), y0=0, y1=1,
                              fillcolor=rgba(COLORS["gained"], 0.45), line=dict(width=0), layer="below"))
    second = getattr(store, "liveuamap", None)
    if snap.second and second is not None:  # the days before DeepState's record: Liveuamap's, dotted
        before = [d for d in second.day_list if d < store.day_list[0]]
        fig.add_trace(go.Scatter(x=[str(d) for d in before], y=second.days.loc[before, "held_km2"].round(0),
                                 mode="lines", line=dict(color=COLORS["occupied"], width=2, dash="dot"),
                                 name=vocab.LIVEUAMAP.short))
    held = float(store.row(snap.day)["russian_held_km2"])
    fig.add_trace(go.Scatter(x=[str(snap.day)], y=[held], mode="markers+text", marker=dict(color="#111", size=7),
                             text=[f"{held:,.0f} km²"], textposition="top left", textfont=dict(size=12),
                             showlegend=False))
    fig.update_layout(width=width, height=height, margin=dict(l=62, r=12, t=8, b=30), showlegend=False,
                      shapes=shapes, paper_bgcolor="#fff", plot_bgcolor="#fff",
                      font=dict(family="DejaVu Sans, Arial, sans-serif", size=12, color="#1f2933"))
    fig.update_xaxes(showgrid=False, linecolor="#999", type="date")
    fig.update_yaxes(gridcolor="#e3e7eb", zeroline=False, tickformat=",.0f", ticksuffix=" ")
    return fig


def _oblast_window(store, snap: Snapshot) -> tuple[date, date, str]:
    if snap.window:
        a, b = snap.window
        return a, b, "compare window"
    start = max(store.first_day, snap.day - timedelta(days=DEFAULT_WINDOW_DAYS))
    a = store.resolve_day(start).day
    whose = f", {vocab.LIVEUAMAP.short}'s maps" if snap.second else ""
    return a, snap.day, f"last {DEFAULT_WINDOW_DAYS} days{whose}"


def _oblast_table(ch, label: str) -> str:
    rows = ch.per_oblast[:MAX_OBLAST_ROWS]
    more = len(ch.per_oblast) - len(rows)
    def rev(g: float, lo: float) -> str:
        return f"+{g:,.1f} / −{lo:,.1f}" if g + lo >= 0.05 else "—"

    body = "".join(f"<tr><td>{_esc(r['oblast'])}</td><td>+{r['gained_km2']:,.1f}</td><td>−{r['lost_km2']:,.1f}</td>"
                   f"<td>{r['net_km2']:+,.1f}</td><td>{rev(r['revision_gained_km2'], r['revision_lost_km2'])}</td></tr>"
                   for r in rows)
    if not rows:
        body = "<tr><td colspan='5' class='muted'>No change in Russian-held territory.</td></tr>"
    if more > 0:
        body += f"<tr><td colspan='5' class='muted'>… and {more} more oblast(s)</td></tr>"
    body += (f"<tr class='total'><td>All of Ukraine</td><td>+{ch.gained_km2:,.1f}</td><td>−{ch.lost_km2:,.1f}</td>"
             f"<td>{ch.net_km2:+,.1f}</td><td>{rev(ch.revision_gained_km2, ch.revision_lost_km2)}</td></tr>")
    return (f"<section class='oblasts'><h2>Change by oblast, {ch.date_from} → {ch.date_to} "
            f"<span class='muted'>({_esc(label)}; km²)</span></h2>"
            "<table><tr><th>Oblast</th><th>became Russian-held</th><th>ceased</th><th>net</th>"
            "<th>of which map revision</th></tr>"
            f"{body}</table>"
            "<p class='muted'>Totals count every change, as DeepState counts them. A map revision is a changed "
            "area that touches neither day's front line (a coast, a lagoon or a border redrawn): it is not "
            "ground taken or lost.</p></section>")


def timeline_svg(store, snap: Snapshot, width: float = 620, height: float = 46) -> str:
    """The town's status over the whole record as a strip (an SVG string), the date marked."""
    from ..analytics.control import town_timeline

    tl = town_timeline(store, snap.town)
    first, last = store.first_day, store.last_day
    total = max(1, (last - first).days + 1)
    bar_h, top = 18, 4

    def xpos(d: date) -> float:
        return (d - first).days / total * width

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}'"
             " font-family='DejaVu Sans, Arial, sans-serif' font-size='10'>"]
    for sp in tl["spans"]:
        a, b = date.fromisoformat(sp["from"]), date.fromisoformat(sp["to"]) + timedelta(days=1)
        parts.append(f"<rect x='{xpos(a):.2f}' y='{top}' width='{max(0.6, xpos(b) - xpos(a)):.2f}' height='{bar_h}' "
                     f"fill='{STATUS_COLORS.get(sp['status'], '#ccc')}'><title>{sp['from']} → {sp['to']}: "
                     f"{_esc(sp['status'])}</title></rect>")
    for y in range(first.year + 1, last.year + 1):
        x = xpos(date(y, 1, 1))
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top + bar_h}' y2='{top + bar_h + 4}' stroke='#555'/>"
                     f"<text x='{x:.1f}' y='{top + bar_h + 15}' text-anchor='middle' fill='#333'>{y}</text>")
    x = xpos(snap.day) + 0.5
    parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='0' y2='{top + bar_h + 4}' stroke='#111' stroke-width='2' "
                 "stroke-dasharray='3 2'/>")
    parts.append("</svg>")
    return "".join(parts)


def _timeline_section(store, snap: Snapshot) -> str:
    from ..analytics.control import town_timeline
    from .figure import town_status

    t = snap.town
    if t.id not in store.settlement_pos:
        return (f"<section><h2>{_esc(t.name)} ({_esc(t.oblast)})</h2><div class='muted'>This place has no status "
                "timeline in the store (run `frontline sync` after a gazetteer update).</div></section>")
    tl = town_timeline(store, t)
    st = town_status(store, snap)
    status = st[0] if st else "unknown"
    since = f" since {st[1]}" if st and st[1] else ""
    spans = tl["spans"]
    day = str(snap.day)
    i = next((k for k, sp in enumerate(spans) if sp["from"] <= day <= sp["to"]), len(spans) - 1)
    near = spans[max(0, i - 1): i + 3]
    lst = "; ".join(f"{s['from']} → {s['to']}: {STATUS_LABELS.get(s['status'], s['status'])}" for s in near)
    legend = "".join(f"<span style='background:{STATUS_COLORS[k]}'></span>{_esc(STATUS_LABELS[k])}"
                     for k in ("ukrainian", "contested", "occupied", "not occupied", "unknown"))
    first_occ = tl["first_occupied"] or "never in the record"
    return (f"<section><h2>{_esc(t.name)} ({_esc(t.oblast)}): status over time</h2>"
            f"<div>On {snap.day}: <b>{_esc(STATUS_LABELS.get(status, status))}</b>{_esc(since)} · "
            f"first shown Russian-held: {_esc(first_occ)}</div>"
            f"{_img(timeline_svg(store, snap).encode())}"
            f"<div class='legend muted'>{legend}</div>"
            f"<div class='muted' style='margin-top:0.6mm'>Around {snap.day}: {_esc(lst)}</div></section>")


def pick_notes(notes, snap: Snapshot, window: tuple[date, date]) -> tuple[list, int]:
    """The notes to show: about the town (or, without one, front-wide notes), nearest the date first."""
    if snap.town is not None:
        pool = [n for n in notes if snap.town.name in n.towns]
    else:
        a, b = window
        pool = [n for n in notes if n.scope == "front" and n.about_from <= b and n.about_to >= a - timedelta(days=30)]
    return sorted(pool, key=lambda n: (abs((n.about_to - snap.day).days), n.id))[:MAX_NOTES], len(pool)


def _verdicts(store, gazetteer, notes, town_name: str | None) -> dict[str, str]:
    """Verdicts from dashboard.analytics.claims when it is there (it is optional)."""
    try:
        from ..analytics import claims
    except Exception:  # noqa: BLE001 - the module is optional
        return {}
    out: dict[str, str] = {}
    for n in notes:
        try:
            rows = claims.note_rows(store, gazetteer, n)
        except Exception:  # noqa: BLE001 - a verdict is a bonus, never a reason to fail the report
            continue
        pick = [r for r in rows if town_name and r.get("town") == town_name] or rows
        if pick and pick[0].get("verdict") and pick[0]["verdict"] != "not checkable":
            out[n.id] = f"{pick[0]['verdict']}: {pick[0].get('detail', '')}"
    return out


def _notes_section(store, gazetteer, snap: Snapshot, notes_dir: Path | None, window) -> str:
    if notes_dir is None:
        return ""
    from ..sources.notes import load_notes

    def resolve_name(name: str) -> str:
        return gazetteer.resolve(name).name

    try:
        notes, _problems = load_notes(Path(notes_dir), resolve_name if gazetteer is not None else None)
    except Exception as exc:  # noqa: BLE001 - notes are supporting material
        return f"<section><h2>Sourced notes</h2><div class='muted'>Notes could not be read: {_esc(exc)}</div></section>"
    shown, total = pick_notes(notes, snap, window)
    verdicts = _verdicts(store, gazetteer, shown, snap.town.name if snap.town else None)
    what = f"about {snap.town.name}" if snap.town else "on the whole front"
    if not shown:
        return f"<section><h2>Sourced notes</h2><div class='muted'>No sourced notes {_esc(what)}.</div></section>"
    items = []
    budget = NOTE_LINES
    for n in shown:
        s = n.summary if len(n.summary) <= MAX_SUMMARY else n.summary[:MAX_SUMMARY - 1].rstrip() + "…"
        about = str(n.about_from) if n.about_from == n.about_to else f"{n.about_from} – {n.about_to}"
        cite = _esc(n.source.publisher)
        if n.source.title:
            cite += f", “{_esc(n.source.title)}”"
        cite += f", published {n.published}{' (approx.)' if n.published_approx else ''}"
        if n.source.url:
            cite += f", {_esc(n.source.url)}"
        v = verdicts.get(n.id)
        head = f"{about} · {n.claimant} · {n.claim}"
        vtxt = f"map check — {v[:160]}" if v else ""
        # The page cannot grow: show a note only if it fits the column (a rough line count).
        lines = sum(-(-len(t) // CHARS_PER_LINE) for t in (head, vtxt, s, cite) if t) + 0.5
        if items and lines > budget:
            break
        budget -= lines
        vhtml = f" <span class='verdict'>{_esc(vtxt)}</span>" if v else ""
        items.append(f"<p class='note'><b>{_esc(head)}</b>{vhtml}<br>{_esc(s)}<br>"
                     f"<span class='cite'>Source: {cite}.</span></p>")
    shown = shown[:len(items)]
    count = f" ({len(shown)} of {total}, nearest the date)" if total > len(shown) else ""
    return f"<section><h2>Sourced notes {_esc(what)}<span class='muted'>{count}</span></h2>{''.join(items)}</section>"


def report_html(store, gazetteer, snap: Snapshot, notes_dir: Path | None = None, change=None) -> str:
    """The report page as self-contained HTML (SVGs from kaleido embedded as data: images)."""
    from .figure import map_figure
    from .images import figure_bytes

    a, b, label = _oblast_window(store, snap)
    ch = change if (snap.window and change is not None) else store.change(a, b)
    map_fig = map_figure(store, snap, width=930, height=700, caption=False, title=False,
                         change=ch if snap.window else None, legend="bottom", places=gazetteer)
    map_svg = figure_bytes(map_fig, "svg", 930, 700)
    chart_svg = figure_bytes(area_chart(store, snap), "svg", 620, 250)
    row = store.row(snap.day)
    title = (f"Territorial control in Ukraine on {snap.day}" + (f" — {snap.town.name}" if snap.town else "")
             + (f" ({vocab.LIVEUAMAP.short})" if snap.second else ""))
    sub = held_summary(float(row["russian_held_km2"]), ch if snap.window else None, snap.window,
                       official=True, net_only=True)
    warn = f"<div class='warn'>{_esc(snap.missing_note)}.</div>" if snap.missing_note else ""
    notes_html = "".join(f"<div class='warn'>{_esc(n)}</div>" for n in snap.notes)
    right = [f"<section><h2>Russian-held area, km²</h2>{_img(chart_svg)}</section>", _oblast_table(ch, label)]
    left_extra = []
    if snap.town is not None:
        left_extra.append(_timeline_section(store, snap))
    right.append(_notes_section(store, gazetteer, snap, notes_dir, (a, b)))
    caption = "<br>".join(_esc(line) for line in snap.caption_lines())
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><div class='page'>"
        f"<header><h1>{_esc(title)}</h1><div class='sub'>{_esc(sub)}</div>{warn}{notes_html}</header>"
        f"<div class='left'>{_img(map_svg)}{''.join(left_extra)}</div>"
        f"<div class='right'>{''.join(right)}</div>"
        f"<footer>{caption}</footer>"
        "</div></body></html>"
    )


def report_pdf(store, gazetteer, snap: Snapshot, notes_dir: Path | None = None, change=None) -> bytes:
    """The one-page A4 landscape PDF."""
    from .images import chrome

    page = report_html(store, gazetteer, snap, notes_dir, change)
    pdf = chrome().print_pdf(page)
    if not pdf.startswith(b"%PDF"):
        raise ExportError("the report could not be printed (no PDF came back)")
    return pdf
