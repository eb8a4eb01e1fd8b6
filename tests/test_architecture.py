"""Imports flow one way (STYLE.md): nothing lower imports anything higher.

    model, errors, timeline, clock, redaction, daterange, plausibility,
    aggregates, day_aggregator, lazy_names, loopback, web_answers, https_trust,
    http_client, http_message, http_wire        ← only each other
    config, auth, providers, store, output_target  ← the row above (+ config)
    sync                                        ← providers, store, auth and the rows above
    doctor                                      ← auth, store, sync and the rows above
    importers, exporters, analysis, charts      ← store, model and the rows above (not sync)
    api                                         ← everything above; the only place parts are wired
    api_sync, api_outputs, api_imports,         ← the parts of the front door api.py re-exports:
    api_sandbox                                   each wires only what its job needs
    api_study                                   ← the study's front door (`heartkeep study`):
                                                  config, auth, store, sync, study
    api_study_demo                              ← `study demo`: also the sandbox and api_study
    api_study_participants                      ← invite, withdraw: what api_study wires, by job
    cli                                         ← api, api_study, its own modules, plain types,
                                                  sync events and output_target (a closed
                                                  standard output);
                                                  the dashboard package (its `dashboard` command)
    dashboard                                   ← api, and the store read-only with analysis
                                                  (its columnar data endpoints)
    study                                       ← the research-study engine (issue 13): config,
                                                  auth, providers, store, sync and the rows above
    sandbox                                     ← model, errors and loopback (how a server
                                                  starts), http_client/_message/_wire (how its
                                                  webhooks are delivered) at most; never the
                                                  client side of the API

The sandbox stays separate on purpose: if the emulator shared our parsing, a misreading of the
API would be copied onto both sides and every test would still pass.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "heartkeep"

BASE = {
    "model",
    "errors",
    "timeline",
    "clock",
    "redaction",
    "daterange",
    "plausibility",
    "aggregates",
    "day_aggregator",  # samples streamed into the days of `aggregates`
    "lazy_names",  # the PEP 562 `__getattr__` of api.py, auth/ and sync/
    "loopback",  # uvicorn on a loopback socket: how the sandbox and the dashboard serve
    "web_answers",  # security headers on every answer of the dashboard and the study site
    "https_trust",  # where https trust comes from, for the sync and the token endpoint alike
    "http_client",  # heartkeep's HTTP client (requests, responses, errors): every request's
    "http_message",  # its requests, responses and errors
    "http_wire",  # HTTP/1.1 on http.client under http_client: the sync's and token endpoint's wire
}
ALLOWED: dict[str, set[str]] = {
    **{name: BASE for name in BASE},
    "config": BASE | {"config"},
    "auth": BASE | {"config", "auth", "sandbox.credentials"},
    "providers": BASE | {"config", "providers"},
    "store": BASE | {"config", "store"},
    "sync": BASE | {"config", "providers", "store", "auth", "sync"},
    "importers": BASE | {"config", "store", "importers"},
    "output_target": BASE,
    "exporters": BASE | {"config", "store", "exporters", "output_target"},
    "analysis": BASE | {"config", "store", "analysis"},
    "charts": BASE | {"config", "store", "analysis", "charts", "output_target"},
    "doctor": BASE | {"config", "auth", "store", "sync", "doctor"},
    "api": {"*"},
    # api.py re-exports these on first use; the CLI reaches them only through `api`
    "api_sync": BASE | {"config", "auth", "providers", "store", "sync"},
    "api_outputs": BASE
    | {"config", "auth", "store", "analysis", "charts", "exporters", "output_target"},
    "api_imports": BASE | {"config", "store", "importers"},
    "api_sandbox": BASE | {"config", "store", "sync", "analysis", "api", "api_outputs", "sandbox"},
    # the study's front door (`heartkeep study …`): config → store → the study's parts; the
    # sandbox for `study demo`
    # study demo is re-exported as `api_study.study_demo`, loaded on use
    "api_study": BASE
    | {
        "config",
        "auth",
        "store",
        "sync",
        "study",
        "sandbox.credentials",
        "api_study_demo",
        "api_study_participants",
    },
    # invite and withdraw, re-exported as `api_study.invite` / `.withdraw`, loaded on use
    "api_study_participants": BASE | {"config", "auth", "store", "sync", "study", "api_study"},
    "api_study_demo": BASE | {"config", "auth", "store", "sync", "study", "sandbox", "api_study"},
    # sync events are the plain data render.py shows; the sandbox's public demo credentials are
    # printed by `heartkeep sandbox serve`
    "cli": BASE
    | {
        "config",
        "api",
        "api_study",
        "cli",
        "sync.events",
        "sandbox.credentials",
        "output_target",
        "dashboard",
    },
    # the web layer: sync and export through api, its data endpoints read the store (read-only)
    "dashboard": BASE | {"config", "api", "store", "analysis", "dashboard"},
    # research studies: webhooks now; enrolment, queue and workers to come over the same layers
    "study": BASE | {"config", "auth", "providers", "store", "sync", "study"},
    # loopback serves an ASGI app and knows nothing of the client side
    # and delivers webhooks with heartkeep's HTTP client: HTTP, not the API's parsing
    "sandbox": {
        "model",
        "errors",
        "loopback",
        "sandbox",
        "http_client",
        "http_message",
        "http_wire",
    },
    "__init__": BASE,
    "__main__": {"cli"},
}


def _layer(module_path: Path) -> str:
    relative = module_path.relative_to(SRC).with_suffix("")
    return relative.parts[0]


def _targets(tree: ast.AST) -> list[str]:
    """Dotted names below `heartkeep` that a module imports (`from heartkeep.a import b` counts
    as `a.b` when `b` is a module, else as `a`)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heartkeep"):
            rest = node.module.removeprefix("heartkeep").lstrip(".")
            for alias in node.names:
                dotted = f"{rest}.{alias.name}" if rest else alias.name
                is_module = (SRC / Path(*dotted.split("."))).with_suffix(".py").exists() or (
                    SRC / Path(*dotted.split("."))
                ).is_dir()
                found.append(dotted if is_module else rest)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("heartkeep."):
                    found.append(alias.name.removeprefix("heartkeep."))
    return [target for target in found if target]


def _permitted(target: str, allowed: set[str]) -> bool:
    if "*" in allowed or target in {"__version__", "__init__"}:
        return True
    return any(target == rule or target.startswith(rule + ".") for rule in allowed)


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_what_its_layer_may(path: Path) -> None:
    layer = _layer(path)
    allowed = ALLOWED.get(layer)
    assert allowed is not None, f"{layer} has no rule in this test: add it to the diagram"
    tree = ast.parse(path.read_text(), filename=str(path))
    wrong = [t for t in _targets(tree) if not _permitted(t, allowed)]
    assert not wrong, f"{path.relative_to(SRC)} ({layer}) imports {wrong}"


def _private_connection_uses(tree: ast.AST) -> list[int]:
    """Lines reaching another object's `_conn` (a class's own `self._conn` is its business)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "_conn"
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if _layer(path) != "store"],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_only_the_store_reaches_its_connection(path: Path) -> None:
    """The PostgreSQL store's connection is `store.connection()` outside the store package:
    `._conn` is private, and code built on it breaks silently when the store changes."""
    lines = _private_connection_uses(ast.parse(path.read_text(), filename=str(path)))
    assert not lines, f"{path.relative_to(SRC)} uses `._conn` at lines {lines}: use connection()"


def test_the_private_connection_rule_sees_a_use() -> None:
    assert _private_connection_uses(ast.parse("store._conn.execute('x')")) == [1]
    assert _private_connection_uses(ast.parse("self._conn.execute('x')")) == []
