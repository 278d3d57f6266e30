"""The report back as a one-page PDF (fpdf2, core fonts), for printing at the meeting."""

from __future__ import annotations

from fpdf import FPDF

from shared.pages.format import format_when
from shared.pages.i18n import translate

_REPLACEMENTS = {"\u2013": "-", "\u2014": "-", "\u201c": '"', "\u201d": '"', "\u2019": "'"}


def _latin1(text) -> str:
    text = str(text or "")
    for bad, good in _REPLACEMENTS.items():
        text = text.replace(bad, good)
    return text.encode("latin-1", "replace").decode("latin-1")


def report_pdf(data: dict, lang: str) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    title = translate("report.title", lang)
    where = data["kelurahan"] or ""
    pdf.cell(0, 8, _latin1(f"{title} {where}".strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    subtitle = (
        f"{translate('report.count', lang, n=len(data['rows']))} - "
        f"{format_when(data['generated_at'], lang)}"
    )
    pdf.cell(0, 5, _latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    headings = (
        translate("work.code", lang),
        translate("case.summary", lang),
        translate("case.agency", lang),
        translate("case.status", lang),
    )
    widths = (24, 74, 44, 44)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.2) as table:
        pdf.set_font("Helvetica", "B", 8)
        row = table.row()
        for heading in headings:
            row.cell(_latin1(heading))
        pdf.set_font("Helvetica", "", 8)
        for item in data["rows"]:
            row = table.row()
            row.cell(item["code"])
            row.cell(_latin1(f"{item['category']}: {item['summary']}"))
            row.cell(_latin1(item["agency"] or "-"))
            status = item["status"]
            if item["last"]:
                status = f"{status}\n{item['last']}"
            row.cell(_latin1(status))
    if data["hidden"]:
        pdf.ln(2)
        pdf.set_font("Helvetica", "I", 8)
        pdf.multi_cell(0, 4, _latin1(translate("report.hidden", lang, n=data["hidden"])))
    return bytes(pdf.output())
