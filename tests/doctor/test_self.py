"""The project passes its own doctor."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmodel_production.doctor import Config, check

ROOT = Path(__file__).parents[2]

# Reported to the lead, not edited here (tests/doctor owns no example code): `link_hero` in
# examples/heroes/_sync/routes.py and _async/routes.py builds `HeroMissionLink(...)` from the
# request's `link.role` by hand (SMP008, rule 7) and returns `db_link` after `commit()` without
# `refresh()` (SMP007, rule 6). Strict: the mark must go once the example is fixed.
EXAMPLES_TRIP_RULES = pytest.mark.xfail(
    strict=True, reason="examples/heroes link_hero breaks SMP007 and SMP008"
)


FOLDERS = [
    "sqlmodel_production",
    pytest.param("examples", marks=EXAMPLES_TRIP_RULES),
    # The documentation's tested samples, once they exist.
    *(["docs_src"] if (ROOT / "docs_src").is_dir() else []),
]


@pytest.mark.parametrize("folder", FOLDERS)
def test_project_code_passes_its_own_doctor(folder: str) -> None:
    report = check([ROOT / folder], Config())
    assert report.files > 5
    assert [(f.path, f.line, f.code) for f in report.findings] == []
