"""Modules nothing imports are left out: their code never runs (eigent, dograh, quivr)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor._modules import Mentions, mentions_in, unimported

ENGINE = """\
from sqlalchemy import create_engine

engine = create_engine("postgresql://app@db/app", echo=True)
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_imports_and_dotted_strings_are_mentions() -> None:
    text = """\
from app.db import (
    session,
    engine as main_engine,
)
import app.routers.users as users
app = create_app("app.settings:Production")
logger = getLogger(__name__)
"""
    names = mentions_in(text, python=True)
    assert {"app", "db", "session", "engine", "routers", "users", "settings"} <= names
    assert {"create_app", "logger", "getLogger"}.isdisjoint(names)
    assert "main" in mentions_in("CMD uvicorn app.main:app", python=False)


def test_a_module_is_unused_when_no_other_file_names_it() -> None:
    mentions = Mentions()
    mentions.add("app/api.py", "from app.db import session\n\napp = FastAPI()\n")
    mentions.add("app/legacy.py", 'NAME = "legacy"\n')  # (its own mention)
    mentions.add("Dockerfile", "CMD python -m app.worker_jobs\n")
    modules = [
        ("app/db.py", "", False),
        ("app/legacy.py", "", False),
        ("app/worker_jobs.py", "", False),
        ("app/main.py", "", False),  # an entry point
        ("app/seed.py", 'if __name__ == "__main__":\n    seed()\n', False),
        ("app/test_legacy.py", "", True),  # tests and migrations count as used
    ]
    assert unimported(modules, mentions) == {"app/legacy.py"}
    # A project that starts no application may not be whole: nothing is left out.
    mentions.started = False
    assert unimported(modules, mentions) == set()


def test_a_loader_of_computed_names_keeps_its_own_package() -> None:
    # aeecleclair/Hyperion `e9b5f53` (MIT): app/module.py imports each
    # `app/core/*/endpoints_*.py` by a name it builds from the file's path.
    mentions = Mentions()
    mentions.add(
        "app/module.py",
        "for path in Path().glob('app/core/*/endpoints_*.py'):\n"
        "    module = importlib.import_module(\n"
        '        ".".join(path.with_suffix("").parts),\n'
        "    )\n",
    )
    mentions.add("tools/fix.py", '__import__("os")\n')  # a plain name: no loader
    mentions.add("app/main.py", "app = FastAPI()\n")
    modules = [
        ("app/core/payment/endpoints_payment.py", "", False),
        ("tools/orphan.py", "", False),
    ]
    assert unimported(modules, mentions) == {"tools/orphan.py"}


def test_a_loader_keeps_the_folders_its_strings_name() -> None:
    # insistence/RuoYi-Vue3-FastAPI `b056145` (MIT): common/router.py imports every
    # `*/controller/*.py`; jxxghp/MoviePilot `bab1f73` (GPL-3.0): a helper loads the
    # modules of the package a caller names (`ModuleHelper.load("app.actions")`).
    mentions = Mentions()
    mentions.add(
        "common/router.py",
        "pattern = os.path.join(root, '*', 'controller', '[!_]*.py')\n"
        "module = importlib.import_module(module_name)\n",
    )
    mentions.add("app/chain.py", 'actions = ModuleHelper.load("app.actions")\n')
    mentions.add("main.py", "app = FastAPI()\n")
    modules = [
        ("module_admin/controller/user_controller.py", "", False),
        ("app/actions/add_download.py", "", False),
        ("app/utils/web.py", "", False),
    ]
    assert unimported(modules, mentions) == {"app/utils/web.py"}


def test_the_doctor_leaves_out_a_module_nothing_imports_and_says_so(
    tmp_path: Path,
) -> None:
    # dograh-hq/dograh `058c540` (BSD-2-Clause): api/db/database.py, which nothing
    # imports, makes an engine with `echo=True`; the app's engine is elsewhere.
    write(
        tmp_path,
        {
            "api/__init__.py": "",
            "api/db/__init__.py": "",
            "api/db/database.py": ENGINE,
            "api/db/client.py": ENGINE.replace("echo=True", "pool_pre_ping=True"),
            "api/main.py": "from api.db.client import engine\n\napp = FastAPI()\n",
        },
    )
    report = check(
        [tmp_path / "api"], Config(root=tmp_path, select=frozenset({"SMP003"}))
    )
    assert report.findings == []
    assert len(report.notices) == 1
    assert "api/db/database.py" in report.notices[0]
    assert "nothing in the project imports" in report.notices[0]
    write(tmp_path, {"api/db/legacy.py": ENGINE})
    report = check(
        [tmp_path / "api"], Config(root=tmp_path, select=frozenset({"SMP003"}))
    )
    assert "Not checked: 2 modules that nothing" in report.notices[0]
    assert "api/db/legacy.py" in report.notices[0]
    (tmp_path / "api/db/legacy.py").unlink()
    # Imported from a module outside the checked folder, it is checked.
    write(tmp_path, {"scripts/debug.py": "from api.db.database import engine\n"})
    report = check(
        [tmp_path / "api"], Config(root=tmp_path, select=frozenset({"SMP003"}))
    )
    assert [Path(f.path).name for f in report.findings] == ["database.py"]
    assert report.notices == []
