"""The page's scripts and styles joined into one file each, when the server starts.

The dashboard is written as plain ES modules (static/js/, one concept each) beside uPlot
(static/vendor/), with no build step.  Served as they are, a first paint waits for eleven
script files — each one a cache lookup, a compile and a task of its own before the view can
start — and two style sheets.  Here they become one `app.js` (uPlot, then every module in
import order) and one `app.css`, built in memory from the shipped files: still no build step,
no tool, nothing generated in the repository.

The join is deliberately narrow: it understands exactly the module syntax the dashboard uses
(`import { a, b } from "./x.js";` and `export` before a function, class or const) and refuses
anything else with `BundleError`, so a new construct fails the tests instead of the page.  Each
module runs in a function scope of its own, in strict mode, after the modules it imports, and
sees their exports by name, as modules do; none of them reassigns an export, so a plain
binding stands in for a live one.
"""

from __future__ import annotations

import re
from pathlib import Path

_IMPORT = re.compile(r'^import \{([^}]*)\} from "\./([a-z_]+)\.js";[ \t]*\n', re.MULTILINE)
_EXPORT = re.compile(
    r"^export (?=(?:async )?function\*? |const |class )",
    re.MULTILINE,
)
_EXPORTED = re.compile(
    r"^export (?:async )?(?:function\*? ?|const |class )([A-Za-z_$][\w$]*)", re.MULTILINE
)
_LEFTOVER = re.compile(r"^\s*(?:import|export)\b|\bimport\s*\(", re.MULTILINE)

VENDOR_SCRIPTS = ("vendor/uPlot.iife.min.js",)
STYLES = ("vendor/uPlot.min.css", "dashboard.css")


class BundleError(Exception):
    """A module uses syntax the join does not understand (a bug in the shipped files)."""


def _order(folder: Path, entry: str) -> list[str]:
    """Modules from `entry`, each after everything it imports (depth first)."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise BundleError(f"js/{name}.js imports itself through others: not supported")
        visiting.add(name)
        for _, imported in _IMPORT.findall((folder / f"{name}.js").read_text()):
            visit(imported)
        visiting.discard(name)
        done.append(name)

    visit(entry)
    return done


def _module(name: str, source: str) -> str:
    """One module as a strict function scope that returns its exports."""
    exported = _EXPORTED.findall(source)
    imports = [
        f"const {{ {names.strip()} }} = _{module};" for names, module in _IMPORT.findall(source)
    ]
    body = _EXPORT.sub("", _IMPORT.sub("", source))
    leftover = _LEFTOVER.search(body)
    if leftover is not None:
        text = body[leftover.start() : leftover.end() + 40]
        raise BundleError(f"js/{name}.js: cannot join {text!r}")
    return (
        f"// ---- js/{name}.js\n"
        f"const _{name} = (() => {{\n'use strict';\n"
        + "".join(f"{line}\n" for line in imports)
        + f"{body}\nreturn {{ {', '.join(exported)} }};\n}})();\n"
    )


def script(static: Path, entry: str = "main") -> str:
    """uPlot and every module reachable from js/`entry`.js, as one classic script."""
    folder = static / "js"
    parts = [(static / name).read_text().rstrip() + "\n" for name in VENDOR_SCRIPTS]
    parts += [_module(name, (folder / f"{name}.js").read_text()) for name in _order(folder, entry)]
    return "".join(parts)


def styles(static: Path) -> str:
    """uPlot's styles, then the dashboard's (which may refine them)."""
    return "".join((static / name).read_text().rstrip() + "\n" for name in STYLES)
