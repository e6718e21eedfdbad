"""The project passes its own doctor."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmodel_production.doctor import Config, check

ROOT = Path(__file__).parents[2]


FOLDERS = [
    "sqlmodel_production",  # the reference service in demo/ too
    # The documentation's tested samples, once they exist.
    *(["docs_src"] if (ROOT / "docs_src").is_dir() else []),
]


@pytest.mark.parametrize("folder", FOLDERS)
def test_project_code_passes_its_own_doctor(folder: str) -> None:
    report = check([ROOT / folder], Config())
    assert report.files > 5
    assert [(f.path, f.line, f.code) for f in report.findings] == []
