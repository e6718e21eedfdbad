"""MkDocs hooks: the pages generated when the site is built, never committed.

- `reference/*.md`: the API reference, one page per area of the package, listing
  every name of that subpackage's `__all__` (the names also exported by
  `sqlmodel_production` itself first); mkdocstrings renders their docstrings.
  A name exported by `sqlmodel_production` that no area holds fails the build.
- `rules/*.md`: one page per doctor rule, from the rule class (title, severity,
  rationale, examples) and its test corpus (`tests/doctor/corpus/smpNNN_*.py`,
  the lines the doctor must report and the code it must leave alone).

The nav entry `rules/index.md` in mkdocs.yml is expanded to every rule page.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

import sqlmodel_production
from sqlmodel_production.doctor import RULES, Rule

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "doctor" / "corpus"

#: The areas of the package, in reading order: (subpackage, what it holds).
AREAS = (
    ("models", "Table models, derived schemas, mixins and field helpers."),
    ("db", "Settings, engines, sessions, transactions and error classification."),
    (
        "migrations",
        "Alembic: hooks for autogenerate and engines for env.py (the `migrations` extra).",
    ),
    ("crud", "The repository: reads, writes, filters, ordering and pages."),
    ("api", "FastAPI integration: session dependencies, routers, error handlers."),
    ("diagnostics", "Query recording, N+1 and leak detection, health, explanations."),
    ("testing", "The pytest plugin: fixtures and query assertions."),
    (
        "telemetry",
        "OpenTelemetry traces and metrics, Prometheus, JSON logs (the `telemetry` extra).",
    ),
    ("doctor", "The doctor as a library: run the checks, read the findings."),
    ("errors", "Every exception of the package, under one root."),
)

_EXPECT = re.compile(r"\s*#\s*expect:\s*(?P<codes>SMP\d{3}(?:\s*,\s*SMP\d{3})*)")


class DocsBuildError(Exception):
    """The generated pages cannot be built from the package as it is."""


# --- MkDocs events -------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Expand the nav entry `rules/index.md` to the index and one page per rule."""
    rules: list[Any] = ["rules/index.md"]
    rules += [{f"{rule.code} {rule.title}": _rule_uri(rule)} for rule in RULES]
    config.nav = _expand(config.nav or [], "rules/index.md", rules)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages to the site."""
    for uri, content in generated_pages().items():
        files.append(File.generated(config, uri, content=content))
    return files


# --- the pages -----------------------------------------------------------------------


def generated_pages() -> dict[str, str]:
    """Every generated page: its path under docs/ and its Markdown."""
    pages = {"reference/index.md": reference_index()}
    pages.update((f"reference/{area}.md", reference_page(area)) for area, _ in AREAS)
    pages["rules/index.md"] = rules_index()
    pages.update((_rule_uri(rule), rule_page(rule)) for rule in RULES)
    return pages


def reference_index() -> str:
    root = set(sqlmodel_production.__all__)
    held = {name for area, _ in AREAS for name in _public(area)}
    if missing := sorted(root - held):
        raise DocsBuildError(
            f"sqlmodel_production exports {', '.join(missing)}, which no area of the API "
            "reference holds: add its subpackage to AREAS in scripts/mkdocs_hooks.py."
        )
    lines = [
        "# API reference\n\n",
        "Every public name, by area, with its docstring. The names in **bold** are also "
        "importable from `sqlmodel_production` itself (names that need FastAPI are "
        "imported there on first use).\n\n",
        "| area | what it holds | names |\n|---|---|---|\n",
    ]
    for area, summary in AREAS:
        names = ", ".join(
            f"[**`{name}`**]({area}.md#{_anchor(area, name)})"
            if name in root
            else f"[`{name}`]({area}.md#{_anchor(area, name)})"
            for name in _public(area)
        )
        lines.append(f"| [`{area}`]({area}.md) | {summary} | {names} |\n")
    return "".join(lines)


def reference_page(area: str) -> str:
    module = f"sqlmodel_production.{area}"
    root = set(sqlmodel_production.__all__)
    names = _public(area)
    sections = [
        ("Importable from `sqlmodel_production`", [n for n in names if n in root]),
        (f"Importable from `{module}`", [n for n in names if n not in root]),
    ]
    # The subpackage's docstring says what it holds; the summary is for the index.
    parts = [
        f"# `{module}`\n\n",
        f"::: {module}\n    options:\n      members: false\n      show_root_heading: false\n"
        "      show_root_toc_entry: false\n\n",
    ]
    for title, members in sections:
        if not members:
            continue
        parts.append(f"## {title}\n\n")
        parts.extend(
            f"::: {module}.{name}\n    options:\n      heading_level: 3\n\n"
            for name in members
        )
    return "".join(parts)


def rules_index() -> str:
    lines = [
        "# Doctor rules\n\n",
        "Every rule `sqlmodel-production doctor` checks, with its stable code. Each page "
        "shows why the rule exists, a bad and a good example, and the code from the "
        "doctor's test corpus that it must report and must leave alone "
        "(`sqlmodel-production doctor --explain CODE` prints the same text in a terminal). "
        "See [the doctor](../doctor.md) for how to run it and configure it.\n\n",
        "| code | rule | severity | checked |\n|---|---|---|---|\n",
    ]
    lines.extend(
        f"| [{rule.code}]({rule.code.lower()}.md) | {rule.title} | "
        f"{rule.severity.value} | {_checked(rule)} |\n"
        for rule in RULES
    )
    return "".join(lines)


def rule_page(rule: Rule) -> str:
    parts = [
        f"# {rule.code}: {rule.title}\n\n",
        f"**Severity:** {rule.severity.value}. **Checked:** {_checked(rule)}.\n\n",
        f"{rule.rationale}\n\n",
        f"## Bad\n\n{_fence(rule.bad)}\n",
        f"## Good\n\n{_fence(rule.good)}\n",
    ]
    bad, good = (CORPUS / f"{rule.code.lower()}_{kind}.py" for kind in ("bad", "good"))
    if bad.is_file():
        text, marked = _unmarked(bad.read_text())
        parts.append(
            "## Reported\n\n"
            f"The doctor reports each highlighted line of this file from its test corpus "
            f"(`tests/doctor/corpus/{bad.name}`):\n\n{_fence(text, marked)}\n"
        )
    if good.is_file():
        parts.append(
            "## Left alone\n\n"
            f"The doctor reports nothing in this file from its test corpus "
            f"(`tests/doctor/corpus/{good.name}`):\n\n{_fence(good.read_text())}\n"
        )
    parts.append(
        f"`sqlmodel-production doctor --explain {rule.code}` prints this rule in a "
        f"terminal; `--ignore {rule.code}` or a `# noqa: {rule.code}` comment on the line "
        "silences it ([configuration](../doctor.md#configuration)).\n"
    )
    return "".join(parts)


# --- helpers -------------------------------------------------------------------------


def _public(area: str) -> list[str]:
    """The documented names of a subpackage: its `__all__`, pytest's hooks left out."""
    module = importlib.import_module(f"sqlmodel_production.{area}")
    return [name for name in module.__all__ if not name.startswith("pytest_")]


def _anchor(area: str, name: str) -> str:
    # mkdocstrings gives each object the id of its full path.
    return f"sqlmodel_production.{area}.{name}"


def _rule_uri(rule: Rule) -> str:
    return f"rules/{rule.code.lower()}.md"


def _checked(rule: Rule) -> str:
    static = type(rule).check is not Rule.check
    runtime = type(rule).check_runtime is not Rule.check_runtime
    if static and runtime:
        return "in the source, and at run time with `--app`"
    if runtime:
        return "at run time (`--app`, `--database-url`)"
    return "in the source"


def _unmarked(text: str) -> tuple[str, list[int]]:
    """The corpus file without its `# expect: CODE` markers, and the marked lines."""
    lines, marked = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _EXPECT.search(line):
            marked.append(number)
            line = line[: match.start()]
        lines.append(line)
    return "\n".join(lines) + "\n", marked


def _fence(code: str, highlighted: list[int] | None = None) -> str:
    """A Python block; a fence longer than any backtick run in the code."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    info = f' hl_lines="{" ".join(map(str, highlighted))}"' if highlighted else ""
    return f"{fence}python{info}\n{code.rstrip()}\n{fence}\n"


def _expand(nav: list[Any], target: str, replacement: list[Any]) -> list[Any]:
    """The nav with the entry pointing at `target` turned into a section."""
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), *_ = item.items()
            if value == target:
                out.append({title: replacement})
            elif isinstance(value, list):
                out.append({title: _expand(value, target, replacement)})
            else:
                out.append(item)
        elif item == target:
            out.append({"Rules": replacement})
        else:
            out.append(item)
    return out
