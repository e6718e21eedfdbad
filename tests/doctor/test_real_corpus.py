"""Snippets of public FastAPI + SQLModel / SQLAlchemy projects, as the doctor must judge them.

Each file in `corpus/real/` is adapted from one project (its header names the repository,
the paths, the commit and the licence). A line marked `# expect: SMPxxx` is a finding its
maintainer would accept and must stay found; every other line must stay quiet, most of them
findings that earlier versions raised and maintainers would reject. `scripts/doctor_corpus.py`
runs the doctor on the whole projects; docs/doctor.md reports the precision there.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from sqlmodel_production.doctor import Config, check

from ._helpers import CORPUS, expected, found

REAL = CORPUS / "real"
# A folder holds one case spread over modules, checked together (`in_tests/` is test code).
FOLDERS = sorted(
    path for path in REAL.iterdir() if path.is_dir() and path.name != "in_tests"
)
SNIPPETS = sorted(REAL.rglob("*.py"))
_ORIGIN = re.compile(
    r"^# Origin: (?P<repo>[\w.-]+/[\w.-]+), .*? at (?P<commit>[0-9a-f]{40})\.",
    re.DOTALL,
)
_LICENCE = re.compile(r"Licence: (MIT|Apache-2\.0)\.")


def test_the_corpus_covers_five_projects_or_more() -> None:
    repos = set()
    for path in SNIPPETS:
        match = _ORIGIN.search(path.read_text())
        assert match is not None, f"{path.name} does not name its origin"
        repos.add(match["repo"])
    assert len(repos) >= 5


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda path: path.stem)
def test_each_snippet_names_its_origin_and_licence(path: Path) -> None:
    header = "".join(path.read_text().splitlines(keepends=True)[:8])
    assert _ORIGIN.search(header), header
    assert _LICENCE.search(header), header


@pytest.mark.parametrize("path", sorted(REAL.glob("*.py")), ids=lambda path: path.stem)
def test_real_code_is_judged_as_its_maintainers_would(path: Path) -> None:
    marks = expected(path)
    if path.stem.endswith("_py314") and sys.version_info >= (3, 14):
        marks = set()  # the interpreter parses it; nothing else on those lines
    assert found(path) == marks


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda path: path.name)
def test_real_code_across_modules_is_judged_as_its_maintainers_would(
    folder: Path,
) -> None:
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 2
    for module in modules:
        others = [other for other in modules if other != module]
        assert found(module, *others) == expected(module), module.name


def test_test_code_of_a_real_project_is_quiet() -> None:
    # `tests/` below the checked folder: unchecked gets and reads after commit are fine there.
    report = check([REAL / "in_tests"], Config())
    assert report.files == 1
    assert report.findings == []


def test_a_session_that_keeps_objects_is_named_in_the_message(tmp_path: Path) -> None:
    # polar.py's sessions keep objects on commit; a row loaded and changed is not fetched again.
    snippet = tmp_path / "touch.py"
    snippet.write_text(
        "async def touch(session: AsyncSession, organization_id: int) -> int | None:\n"
        "    organization = await session.get(Organization, organization_id)\n"
        "    session.add(organization)\n"
        "    await session.commit()\n"
        "    return organization.total_balance\n"
    )
    (finding,) = check(
        [REAL / "polar.py", snippet], Config(select=frozenset({"SMP007"}))
    ).findings
    assert finding.code == "SMP007"
    assert finding.message.endswith(
        "the session keeps objects on commit (`expire_on_commit=False`), so the columns "
        "the database fills in still hold what they held before the write."
    )
