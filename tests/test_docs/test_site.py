"""The documentation site as a reader sees it: built by MkDocs, opened in headless Chromium.

The site is built once per run (strict, into a temporary folder) and served over
HTTP on 127.0.0.1; each page is loaded in a fresh headless Chromium whose DOM is
read back with `--dump-dom`. Every code sample must be in the page as the lines of
its tested file, and no include directive may be left in the text. Without MkDocs
or Chromium (Debian's `chromium` package) the tests skip, and fail when CI is set.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import sqlmodel_production
from sqlmodel_production.doctor import RULES_BY_CODE
from tests.doctor._helpers import CORPUS, expected
from tests.test_docs.test_includes import DOCS, ROOT, problems

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# `{!` and `!}` around a path with no space in it: an include mdx_include left unexpanded.
LEFT_DIRECTIVE = re.compile(r"\{!>?\s*[^\s{}!]+\s*!\}")


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI requires the docs site test", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from mkdocs.yml in strict mode, as `make docs` builds it."""
    if importlib.util.find_spec("mkdocs") is None:
        _missing("MkDocs is not installed (pip install --group docs)")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    return out


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The base URL of an HTTP server for the built site."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture
def dom(chromium: str, server: str, tmp_path: Path) -> Callable[[str], Page]:
    """Load a page of the site in headless Chromium and return its DOM as parsed."""

    def load(page: str) -> Page:
        result = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'chromium'}",
                "--dump-dom",
                server + page,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        parsed = Page()
        parsed.feed(result.stdout)
        assert parsed.title, f"{page}: Chromium returned no page\n{result.stderr}"
        return parsed

    return load


class Page(HTMLParser):
    """The text of a page, the text of each code block, highlighted lines and ids."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.text: list[str] = []
        self.blocks: list[str] = []  # the text of each <pre><code>
        self.highlighted: list[list[str]] = []  # hl_lines of each block, as text
        self.ids: set[str] = set()
        self._stack: list[str] = []
        self._hll: list[str] | None = None  # the text of the open highlighted line
        self._hll_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag == "code" and "pre" in self._stack:
            self.blocks.append("")
            self.highlighted.append([])
        if tag == "span" and "hll" in (attributes.get("class") or "").split():
            self._hll, self._hll_depth = [], len(self._stack)
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass
        if self._hll is not None and len(self._stack) <= self._hll_depth:
            self.highlighted[-1].append("".join(self._hll).rstrip("\n"))
            self._hll = None

    def handle_data(self, data: str) -> None:
        if "script" in self._stack or "style" in self._stack:
            return
        if self._stack[-1:] == ["title"]:
            self.title += data
        self.text.append(data)
        if "code" in self._stack and "pre" in self._stack:
            self.blocks[-1] += data
            if self._hll is not None:
                self._hll.append(data)


def _url(doc: Path) -> str:
    return "" if doc.name == "index.md" else f"{doc.stem}/"


def test_index_shows_its_commands_and_links_every_guide(
    dom: Callable[[str], Page],
) -> None:
    page = dom("")
    assert page.title.startswith("sqlmodel-production")
    assert any("make demo" in block and "make test" in block for block in page.blocks)
    text = "".join(page.text)
    assert not LEFT_DIRECTIVE.search(text)
    for guide in ("Models", "Transactions", "Diagnostics", "Doctor"):
        assert guide in text


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_code_sample_is_rendered_from_its_file(
    doc: Path, dom: Callable[[str], Page]
) -> None:
    page = dom(_url(doc))
    assert not LEFT_DIRECTIVE.search("".join(page.text)), "an include left unexpanded"
    _, includes = problems(doc.name, doc.read_text())
    for include in includes:
        lines = (ROOT / include.path).read_text().splitlines()
        sample = "\n".join(lines[include.start - 1 : include.end])
        assert sample in [block.rstrip("\n") for block in page.blocks], (
            f"{doc.name}:{include.line}: {include.path} lines "
            f"{include.start}-{include.end} are not on the page as they are in the file"
        )


def test_a_guide_page_has_its_samples(dom: Callable[[str], Page]) -> None:
    # The parametrized test above would pass on a page without includes: not this one.
    page = dom("models/")
    assert len(page.blocks) >= 5
    assert any(
        "class Character(IntPK, table=True):" in block and "derive_schemas(" in block
        for block in page.blocks
    )


def test_rule_pages_highlight_the_lines_the_doctor_reports(
    dom: Callable[[str], Page],
) -> None:
    page = dom("rules/smp011/")
    assert "SMP011: " + RULES_BY_CODE["SMP011"].title in "".join(page.text)
    bad = CORPUS / "smp011_bad.py"
    lines = bad.read_text().splitlines()
    marked = [
        re.sub(r"\s*# expect: SMP011$", "", lines[n - 1])
        for n, _ in sorted(expected(bad))
    ]
    assert marked and marked in page.highlighted
    good = (CORPUS / "smp011_good.py").read_text().rstrip("\n")
    assert good in [block.rstrip("\n") for block in page.blocks]


def test_api_reference_documents_every_exported_name(site: Path) -> None:
    ids: set[str] = set()
    for html in (site / "reference").glob("*/index.html"):
        parsed = Page()
        parsed.feed(html.read_text())
        ids |= parsed.ids
    documented = {anchor.rsplit(".", 1)[-1] for anchor in ids if "." in anchor}
    assert set(sqlmodel_production.__all__) - documented == set()
    assert "sqlmodel_production.db.Database" in ids


def test_a_name_no_area_of_the_reference_holds_fails_the_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        _missing("MkDocs is not installed (pip install --group docs)")
    spec = importlib.util.spec_from_file_location(
        "mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py"
    )
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert "reference/db.md" in hooks.generated_pages()
    exported = [*sqlmodel_production.__all__, "Nowhere"]
    monkeypatch.setattr(sqlmodel_production, "__all__", exported)
    with pytest.raises(hooks.DocsBuildError, match="exports Nowhere, which no area"):
        hooks.generated_pages()
