"""Running the doctor on corpus files and reading their `# expect: SMPxxx` markers."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor._source import display_path

CORPUS = Path(__file__).parent / "corpus"
MODELS = CORPUS / "models.py"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>SMP\d{3}(?:\s*,\s*SMP\d{3})*)")


def found(
    path: Path, *context: Path, config: Config | None = None
) -> set[tuple[int, str]]:
    """(line, code) of every finding in `path`, checked together with `context` files."""
    report = check([*context, path], config or Config())
    shown = display_path(path)
    return {(f.line, f.code) for f in report.findings if f.path == shown}


def expected(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs marked in the file with `# expect: SMP001`."""
    marks: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            marks.update(
                (number, code.strip()) for code in match.group("codes").split(",")
            )
    return marks
