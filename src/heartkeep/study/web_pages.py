"""The HTML shell every study page shares, and its one stylesheet.

Why plain strings: a dozen small pages, no loops over user data beyond tables, and every value
goes through `esc` (html.escape, quotes included) — a template engine would add a dependency
for nothing.  The pages carry no script at all, and style only from `/static/study.css`
(served by the app), so the strict CSP (`web_security.py`) allows no inline anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse, Response

CSS_PATH = "/static/study.css"

STYLESHEET = """
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;
--accent:#0b5cad;--warn:#9a3412;--ok:#166534}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9aa4ae;
--line:#30363d;--accent:#58a6ff;--warn:#f0883e;--ok:#3fb950}}
body{font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:44rem;margin:2.5rem auto;padding:0 1.2rem}
main.wide{max-width:76rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:2rem 0 .6rem}
.study{color:var(--muted);font-size:.9rem;margin:0}
.consent{border:1px solid var(--line);border-radius:6px;padding:.4rem 1.2rem;margin:1rem 0;
max-height:28rem;overflow:auto}
button,.button{font:inherit;padding:.5rem 1.3rem;border-radius:6px;border:1px solid var(--line);
background:var(--bg);color:var(--fg);cursor:pointer;margin:.3rem .8rem .3rem 0;
text-decoration:none;display:inline-block}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{border-color:var(--warn);color:var(--warn)}
.note{color:var(--muted);font-size:.9rem}.warn{color:var(--warn)}.ok{color:var(--ok)}
label{display:block;margin:.6rem 0}input[type=text],input[type=password]{font:inherit;
padding:.35rem .5rem;width:16rem;border:1px solid var(--line);border-radius:4px;
background:var(--bg);color:var(--fg)}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left;
white-space:nowrap}
td.num,th.num{text-align:right}
table.heat td.d{width:1.6rem;height:1.4rem;padding:0;border:1px solid var(--bg);
text-align:center;font-size:.7rem}
.w0{background:#8882}.w1{background:#f8d7a6;color:#1b1f24}.w2{background:#b7dfa3;color:#1b1f24}
.w3{background:#6fbf73;color:#1b1f24}.w4{background:#2e8b46;color:#fff}
td.wrap{white-space:normal;min-width:16rem}
.legend span{display:inline-block;padding:0 .5rem;margin-right:.3rem;border-radius:3px}
nav{display:flex;gap:1.2rem;align-items:baseline;border-bottom:1px solid var(--line);
padding:.6rem 1.2rem}nav form{margin-left:auto}nav button{margin:0;padding:.2rem .8rem}
a{color:var(--accent)}
"""


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute."""
    return escape(str(value), quote=True)


def paragraphs(text: str) -> str:
    """Plain text (blank-line separated paragraphs) as escaped <p> elements."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + "<br>".join(esc(line) for line in block.splitlines()) + "</p>"
        for block in blocks
        if block
    )


def page(
    title: str,
    body: str,
    *,
    status: int = 200,
    wide: bool = False,
    nav: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A whole page; `body` and `nav` are HTML already escaped by the caller."""
    html = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f'<link rel=stylesheet href="{CSS_PATH}"></head><body>{nav}'
        f"<main{' class=wide' if wide else ''}>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def stylesheet(_request: object) -> Response:
    return Response(
        STYLESHEET,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def hidden(name: str, value: str) -> str:
    return f'<input type=hidden name="{esc(name)}" value="{esc(value)}">'
