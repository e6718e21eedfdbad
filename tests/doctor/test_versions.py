"""A file with syntax newer than the interpreter names the Python it needs."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor._versions import newer_syntax

PY311 = (3, 11)

NEWER = [
    ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", (3, 14), "PEP 758"),
    ("try:\n    pass\nexcept* OSError, ValueError:\n    pass\n", (3, 14), "PEP 758"),
    ('greeting = t"hello {name}"\n', (3, 14), "PEP 750"),
    ("query = sql(rt'SELECT {x}')\n", (3, 14), "PEP 750"),
    ("class Box[T = int]:\n    pass\n", (3, 13), "PEP 696"),
    ("type Pair = tuple[int, int]\n", (3, 12), "PEP 695"),
    ("type Pair[T] = tuple[T, T]\n", (3, 12), "PEP 695"),
    ("def first[T](items: list[T]) -> T:\n    return items[0]\n", (3, 12), "PEP 695"),
    ("class Box[T]:\n    pass\n", (3, 12), "PEP 695"),
    ('row = {\'a\': 1}\nprint(f"{row["a"]}")\n', (3, 12), "PEP 701"),
    ('text(\n    f"-{\n        amount\n    }"\n)\n', (3, 12), "PEP 701"),
]


def parse_error(source: str) -> SyntaxError:
    with pytest.raises(SyntaxError) as caught:
        ast.parse(source)
    return caught.value


@pytest.mark.parametrize(("source", "version", "pep"), NEWER)
def test_newer_syntax_names_the_python_it_needs(
    source: str, version: tuple[int, int], pep: str
) -> None:
    if sys.version_info >= version:
        pytest.skip(f"Python {sys.version_info[:2]} parses this")
    error = parse_error(source)
    found = newer_syntax(source, error.lineno, error.offset, PY311)
    assert found is not None
    assert (found.version, pep in found.feature) == (version, True)
    # On a Python that has the feature, the same error would be a plain syntax error.
    assert newer_syntax(source, error.lineno, error.offset, version) is None


PLAIN = [
    "def f(:\n    pass\n",
    "try:\n    pass\nexcept ValueError, TypeError as exc:\n    pass\n",  # 3.14 too
    "label = 't' +\n",
    "x = [1, 2\ny = 3\n",
    "class Box(:\n    pass\n",
]


@pytest.mark.parametrize("source", PLAIN)
def test_plain_syntax_errors_are_not_blamed_on_a_python_version(source: str) -> None:
    error = parse_error(source)
    assert newer_syntax(source, error.lineno, error.offset, PY311) is None


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 parses this")
def test_the_finding_says_which_python_the_file_needs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(NEWER[0][0])
    (finding,) = check([tmp_path], Config()).findings
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (finding.code, finding.line) == ("SMP000", 3)
    assert finding.message == (
        "This file needs Python 3.14 (`except A, B:` without parentheses, PEP 758); "
        f"the doctor runs on Python {running}, which cannot parse it, so no rule "
        "checked it."
    )
    assert finding.fix.startswith("Run the doctor on Python 3.14 or newer")
