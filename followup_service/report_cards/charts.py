"""Server-rendered SVG charts, hand-made (pure: strings in, markup out).

No script, no style attribute or element (the CSP refuses inline styles): colours are
presentation attributes, the size comes from the viewBox and the page's stylesheet
(`.rapor-chart { width: 100%; height: auto }`), so a chart fits a 360 px screen. Each
chart has a <title> and <desc>; the page also prints the numbers as a table, which is
what screen readers read (the SVG itself is role="img").
"""

from __future__ import annotations

from html import escape

from followup_service.report_cards.domain import SMALL

OPENED, CLOSED = "#1d4e89", "#e07a1f"  # contrast >= 3:1 on white, told apart by more than hue
GRID, TEXT = "#c9ced6", "#333333"


def _value(v) -> float:
    return 0.0 if v in (None, SMALL) else float(v)


def weekly_chart(weeks: list[dict], title: str, desc: str, labels: tuple[str, str]) -> str:
    """Opened and closed per week as paired bars, 26 weeks across 340 units."""
    width, height, left, bottom, top = 340, 170, 28, 22, 24
    plot_w, plot_h = width - left - 4, height - bottom - top
    peak = max([_value(w["opened"]) for w in weeks] + [_value(w["closed"]) for w in weeks] + [1])
    step = plot_w / max(len(weeks), 1)
    bar = max(step / 2 - 0.5, 1)
    parts = [
        f'<svg class="rapor-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="wk-title wk-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="wk-title">{escape(title)}</title><desc id="wk-desc">{escape(desc)}</desc>',
    ]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="{TEXT}">{round(peak * frac)}</text>'
        )
    for i, w in enumerate(weeks):
        x = left + i * step
        for offset, key, colour in ((0, "opened", OPENED), (bar, "closed", CLOSED)):
            h = plot_h * _value(w[key]) / peak
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
    for i in (0, len(weeks) // 2, len(weeks) - 1):
        if 0 <= i < len(weeks):
            x = left + i * step
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" font-size="9" fill="{TEXT}">'
                f"{escape(weeks[i]['week'][5:])}</text>"
            )
    parts.append(
        f'<rect x="{left}" y="4" width="9" height="9" fill="{OPENED}"/>'
        f'<text x="{left + 12}" y="12" font-size="10" fill="{TEXT}">{escape(labels[0])}</text>'
        f'<rect x="{left + 120}" y="4" width="9" height="9" fill="{CLOSED}"/>'
        f'<text x="{left + 132}" y="12" font-size="10" fill="{TEXT}">{escape(labels[1])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def share_chart(rows: list[dict], title: str, desc: str, figure: str, name_key: str) -> str:
    """Horizontal bars of a percentage per row (e.g. acknowledged within deadline)."""
    shown = rows[:12]
    line, width, label_w = 22, 340, 150
    height = line * len(shown) + 8
    parts = [
        f'<svg class="rapor-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="sh-title sh-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="sh-title">{escape(title)}</title><desc id="sh-desc">{escape(desc)}</desc>',
    ]
    for i, row in enumerate(shown):
        y = 4 + i * line
        value = row.get(figure)
        name = str(row.get(name_key) or row.get("name") or row["key"])
        name = name if len(name) <= 26 else name[:25] + "…"
        bar = (width - label_w - 44) * _value(value) / 100
        shown_value = "–" if value is None else (SMALL if value == SMALL else f"{value}%")
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="10" fill="{TEXT}">{escape(name)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="14" fill="{OPENED}"/>'
            f'<text x="{label_w + bar + 4:.1f}" y="{y + 14}" font-size="10" fill="{TEXT}">'
            f"{escape(shown_value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
