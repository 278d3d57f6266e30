"""QR codes as inline SVG (segno), so a printed page needs no image request."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, scale: int = 4) -> str:
    """An <svg> element encoding `url`, sized for print (about 4 cm at scale 4)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False, title="QR"
    )
    return buffer.getvalue().decode()
