"""Every code sample in docs/ is an include of a tested file, by a line range that exists.

One syntax, the one SQLModel's docs use (mdx_include):

    ```Python hl_lines="3 5"
    {!./docs_src/models/tutorial001.py[ln:1-16]!}
    ```

A fenced block holds exactly one include line, unless its language is one of
`SHELL` (commands and their output). A block indented inside a list item uses
`{!> ./docs_src/...!}`, which indents every included line as the include is. The rules section of docs/doctor.md is
generated from the rule classes (tests/doctor/test_docs.py) and its examples are
the tested rule corpus, so it is the one region not checked here.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
SHELL = {"console", "bash", "shell", "text"}
INCLUDE = re.compile(
    r"^\{!(?:>\s*)?\./(?P<path>[^\[\]!]+)\[ln:(?P<start>\d+)-(?P<end>\d+)\]!\}$"
)
ANY_INCLUDE = re.compile(r"\{!.*?!\}")
FENCE = re.compile(r"^(?P<fence>```+)(?P<info>.*)$")
HL_LINES = re.compile(r'hl_lines="(?P<lines>[\d\s-]+)"')
GENERATED = ("<!-- rules:start -->", "<!-- rules:end -->")


@dataclass(frozen=True)
class Include:
    doc: str
    line: int
    path: str
    start: int
    end: int


def without_generated(text: str) -> str:
    """Blank out the generated rules region, keeping line numbers."""
    start, end = GENERATED
    if start not in text:
        return text
    head, rest = text.split(start, 1)
    region, tail = rest.split(end, 1)
    return head + start + "\n" * region.count("\n") + end + tail


def problems(
    name: str, text: str, root: Path = ROOT
) -> tuple[list[str], list[Include]]:
    """What is wrong with the samples of one page, and the includes it makes."""
    found: list[str] = []
    includes: list[Include] = []
    lines = without_generated(text).splitlines()
    n = 0
    while n < len(lines):
        opening = FENCE.match(lines[n].strip())
        if not opening:
            if ANY_INCLUDE.search(lines[n]):
                found.append(f"{name}:{n + 1}: an include outside a fenced block")
            n += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        close = next(
            (k for k in range(n + 1, len(lines)) if lines[k].strip() == fence), None
        )
        if close is None:
            found.append(f"{name}:{n + 1}: unclosed fenced block")
            break
        body = lines[n + 1 : close]
        language = info.split(" ", 1)[0].lower()
        where = f"{name}:{n + 1}"
        if language in SHELL:
            if any(ANY_INCLUDE.search(line) for line in body):
                found.append(f"{where}: an include in a {language} block")
        elif not language:
            found.append(f"{where}: a fenced block without a language")
        elif len(body) != 1 or not (match := INCLUDE.match(body[0].strip())):
            found.append(
                f"{where}: a pasted {language} block; include a tested file instead"
            )
        else:
            include = Include(
                name, n + 2, match["path"], int(match["start"]), int(match["end"])
            )
            includes.append(include)
            found += _check_include(include, info, root)
        n = close + 1
    return found, includes


def _check_include(include: Include, info: str, root: Path) -> list[str]:
    where = f"{include.doc}:{include.line}"
    file = (root / include.path).resolve()
    if root.resolve() not in file.parents or not file.is_file():
        return [f"{where}: {include.path} does not exist"]
    source = file.read_text().splitlines()
    if not 1 <= include.start <= include.end <= len(source):
        return [
            f"{where}: lines {include.start}-{include.end} of {include.path} "
            f"(it has {len(source)})"
        ]
    shown = source[include.start - 1 : include.end]
    found = []
    if not shown[0].strip() or not shown[-1].strip():
        found.append(f"{where}: the range starts or ends with a blank line")
    if file.suffix == ".py":
        try:
            ast.parse(textwrap.dedent("\n".join(shown)))
        except SyntaxError as exc:
            found.append(f"{where}: the range cuts a statement ({exc.msg})")
    if hl := HL_LINES.search(info):
        for token in hl["lines"].split():
            for number in map(int, token.split("-")):
                if not 1 <= number <= len(shown):
                    found.append(f"{where}: hl_lines {number} outside the range")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_sample_is_an_include_that_resolves(doc: Path) -> None:
    found, _ = problems(f"docs/{doc.name}", doc.read_text())
    assert found == []


def test_docs_exist_and_include_every_tutorial() -> None:
    names = {doc.name for doc in DOCS}
    assert {
        "index.md",
        "models.md",
        "transactions.md",
        "diagnostics.md",
        "doctor.md",
        "reference-service.md",
        "scaling.md",
    } <= names
    included = {
        include.path
        for doc in DOCS
        for include in problems(doc.name, doc.read_text())[1]
    }
    tutorials = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "docs_src").glob("*/tutorial*.*")
    }
    assert tutorials - included == set()  # no tutorial left out of the docs
    # Besides tutorials: the reference service, and configuration files the tests run
    # on (docs_src/scaling/pgbouncer.ini is the PgBouncer that scripts/topology.sh starts,
    # docs_src/telemetry/prometheus.yml the Prometheus of tests/telemetry/test_prometheus.py),
    # and the port of FastAPI's full-stack template, which `make template-acceptance` tests.
    assert included - tutorials <= {
        str(path.relative_to(ROOT))
        for path in (
            *(ROOT / "sqlmodel_production" / "demo").rglob("*.py"),
            *(
                ROOT / "acceptance" / "full-stack-fastapi-template" / "backend" / "app"
            ).rglob("*.py"),
            *(ROOT / "docs_src").glob("*/*.ini"),
            *(ROOT / "docs_src").glob("*/*.yml"),
        )
    }


def test_every_tutorial_has_a_test() -> None:
    for path in sorted((ROOT / "docs_src").glob("*/tutorial*.*")):
        topic, name = path.parent.name, path.stem
        test = ROOT / "tests" / "test_docs" / f"test_{topic}.py"
        assert re.search(rf"\b{name}\b", test.read_text()), (
            f"{path} has no test in {test}"
        )


def test_the_rules_section_is_the_only_region_left_out() -> None:
    text = (ROOT / "docs" / "doctor.md").read_text()
    assert all(marker in text for marker in GENERATED)
    assert "```python" not in without_generated(text)


# --- the checker itself ------------------------------------------------------------------

SAMPLE = "docs_src/models/tutorial001.py"


@pytest.mark.parametrize(
    "markdown, message",
    [
        ("```python\nx = 1\n```\n", "a pasted python block"),
        ("```Python\n{!./docs_src/nothing.py[ln:1-2]!}\n```\n", "does not exist"),
        (f"```Python\n{{!./{SAMPLE}[ln:30-99]!}}\n```\n", "lines 30-99"),
        (f"```Python\n{{!./{SAMPLE}[ln:1-4]!}}\n```\n", "ends with a blank line"),
        (f"```Python\n{{!./{SAMPLE}[ln:14-15]!}}\n```\n", "cuts a statement"),
        (f'```Python hl_lines="9"\n{{!./{SAMPLE}[ln:1-3]!}}\n```\n', "hl_lines 9"),
        (f"```Python\n{{!./{SAMPLE}!}}\n```\n", "a pasted Python block"),
        (f"{{!./{SAMPLE}[ln:1-3]!}}\n", "outside a fenced block"),
        ("```\nx = 1\n```\n", "without a language"),
        ("```toml\n[tool]\n```\n", "a pasted toml block"),
        ("```python\nx = 1\n", "unclosed"),
    ],
)
def test_the_checker_finds(markdown: str, message: str) -> None:
    found, _ = problems("page.md", markdown)
    assert len(found) == 1 and message.lower() in found[0].lower(), found


def test_the_checker_accepts_includes_and_shell() -> None:
    markdown = (
        f'```Python hl_lines="1 3-4"\n{{!./{SAMPLE}[ln:6-11]!}}\n```\n\n'
        "```console\n$ sqlmodel-production doctor app\n```\n\n"
        f"- a list item:\n\n    ```Python\n    {{!> ./{SAMPLE}[ln:6-11]!}}\n    ```\n"
    )
    assert problems("page.md", markdown) == (
        [],
        [Include("page.md", 2, SAMPLE, 6, 11), Include("page.md", 12, SAMPLE, 6, 11)],
    )
