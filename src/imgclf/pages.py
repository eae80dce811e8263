"""Parts of the project's self-contained HTML pages (the model report, a sweep's page): one
style sheet, PNGs embedded as data URLs with their size, tables that turn into cards on a
phone's width. No script, no network."""

from __future__ import annotations

import base64
import html
import struct

STYLE = """*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;line-height:1.4;color:#222}h1,h2,p{overflow-wrap:anywhere}
nav{position:sticky;top:0;z-index:1;background:#f4f6f8;border-bottom:1px solid #ccd;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.2rem 1.2rem}
nav a{text-decoration:none;color:#0645ad}main{max-width:1500px;margin:0 auto;padding:0 1rem 3rem}
section{scroll-margin-top:3.5rem;border-top:1px solid #ddd;margin-top:1.5rem}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:1rem}
.wide{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.9rem;color:#555}img{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.noise td{color:#555}.note{font-size:.9rem;color:#444;max-width:60rem}
@media (max-width:720px){section{scroll-margin-top:6.5rem}table{font-size:.9rem}td,th{padding:2px 4px}.cards thead{display:none}
.cards,.cards tbody,.cards tr,.cards td{display:block;width:100%}.cards tr{border:1px solid #ccc;margin:.5rem 0}
h1{font-size:1.5rem}.cards td{border:none;border-bottom:1px solid #eee;display:flex;justify-content:space-between;gap:.8rem;min-height:1.6em}
.cards td::before{content:attr(data-label);font-weight:600;text-align:left}}
"""


def image_tag(png: bytes, alt: str) -> str:
    """``png`` embedded as a data URL, with its size (read from the PNG header) so the page
    does not jump while it loads."""
    width, height = struct.unpack(">II", png[16:24])
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" width="{width}" height="{height}" src="data:image/png;base64,{data}">'


def figure(png: bytes, caption: str) -> str:
    """``png`` with its caption below."""
    return f"<figure>{image_tag(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def table(header: list[str], rows: list[list[str]], row_classes: list[str] | None = None, cards: bool = True) -> str:
    """A table; with ``cards``, one card per row on a narrow screen (cells carry their column name)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{cls}">' + "".join(f'<td data-label="{html.escape(h)}">{c}</td>' for h, c in zip(header, row)) + "</tr>"
        for row, cls in zip(rows, row_classes or [""] * len(rows))
    )
    return f'<table{" class=cards" if cards else ""}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def document(title: str, nav: str, body: str) -> str:
    """A whole page: ``title`` (escaped here), a sticky navigation bar of links, then ``body``."""
    title = html.escape(title)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head>
<body><nav aria-label="sections">{nav}</nav><main>
<h1>{title}</h1>
{body}
</main></body></html>
"""
