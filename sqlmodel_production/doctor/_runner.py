"""Find the files, run the rules, apply suppressions: the doctor without its command line."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from sqlmodel_production._exceptions import DoctorUsageError

from ._config import Config
from ._databases import DEPENDENCY_FILES, databases_required
from ._findings import Finding, Severity
from ._migrations import MIGRATION_FOLDERS, MigrationIndexes, read_migrations
from ._modules import Mentions, unimported
from ._notices import missing_models, unimported_notice
from ._project import ProjectIndex
from ._runtime import Runtime
from ._source import SourceFile, display_path, parse_noqa
from ._versions import newer_syntax

__all__ = ["SYNTAX_ERROR", "Report", "check", "discover"]

#: Reported for a file Python cannot parse; no rule can check it.
SYNTAX_ERROR = "SMP000"
_SKIPPED_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "build",
        "dist",
        "htmlcov",
    }
)


@dataclass(frozen=True)
class Report:
    """The findings of one run and how many files it read."""

    findings: list[Finding]
    files: int
    notices: list[str] = field(default_factory=list)
    """What the run could not check (models the endpoints use, not among the files)."""

    def failing(self, threshold: Severity) -> list[Finding]:
        """The findings at or above `threshold`: these make the exit code 1."""
        return [f for f in self.findings if f.severity.rank >= threshold.rank]


def discover(paths: Sequence[Path], config: Config) -> dict[Path, str]:
    """The Python files under `paths`, without hidden, virtualenv, build and excluded folders.

    A file named explicitly is always checked. Each file maps to its path below the
    argument that found it (`tests/test_app.py` for `.`), which tells test code apart.

    Raises:
        DoctorUsageError: a path does not exist.
    """
    root = (config.root or Path.cwd()).resolve()
    found: dict[Path, str] = {}
    for path in paths:
        if not path.exists():
            raise DoctorUsageError(f"Path does not exist: {path}")
        if path.is_file():
            found.setdefault(path, path.name)
            continue
        for current, files in _folders(
            path, lambda folder: not _excluded(folder, root, config.exclude)
        ):
            for name in sorted(files):
                candidate = current / name
                if name.endswith(".py") and not _excluded(
                    candidate, root, config.exclude
                ):
                    found.setdefault(candidate, candidate.relative_to(path).as_posix())
    return found


def check(
    paths: Sequence[Path],
    config: Config,
    *,
    runtime: Runtime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check the files under `paths` with the rules `config` selects.

    Args:
        paths: files and folders to check.
        config: rules, exclusions and threshold.
        runtime: the imported app and server limits, for the run-time rules.
        progress: called with (files done, files in all) while reading the files.
    """
    files = discover(paths, config)
    sources: list[SourceFile] = []
    findings: list[Finding] = []
    for done, (path, within) in enumerate(files.items(), start=1):
        shown = display_path(path)
        text = ""
        try:
            text = path.read_bytes().decode("utf-8")
            sources.append(SourceFile(shown, text, within))
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            if not _TEMPLATE.search(text):
                findings.append(_unparsable(shown, exc, text))
            # (A Jinja template named `.py`, `{% ... %}`: no Python to check.)
        if progress is not None:
            progress(done, len(files))
    migrations, mentions = _read_project(paths, config, sources)
    project = ProjectIndex.build(
        sources,
        migrations=migrations,
        required_databases=_required_databases(paths, config),
    )
    unused = unimported(
        ((s.path, s.text, s.is_test or s.is_migration) for s in sources), mentions
    )
    for source in sources:
        if source.path in unused:
            continue  # (nothing imports it: its code never runs)
        for rule in config.rules:
            if not (rule.skip_tests and source.is_test):
                findings.extend(rule.check(source, project))
    if runtime is not None:
        for rule in config.rules:
            findings.extend(rule.check_runtime(runtime, project))
    notices = [missing_models(sources), unimported_notice(sorted(unused))]
    return Report(
        _suppress(findings, sources),
        len(files),
        [notice for notice in notices if notice],
    )


# Jinja's statement tags at the start of a line: a template that only has a `.py` name.
_TEMPLATE = re.compile(
    r"^\s*\{%-?\s*(?:include|if|for|set|block|extends|macro)\b", re.M
)
# Bytes: a bigger `.sql` file is a data dump, not a schema.
_LARGEST_MIGRATION = 2_000_000


def _read_project(
    paths: Sequence[Path], config: Config, sources: list[SourceFile]
) -> tuple[MigrationIndexes, Mentions]:
    """What the doctor reads of the project besides the checked files, in one walk of its
    root (the folder of its pyproject.toml; else the working folder, or a checked path
    outside it): the indexes its migrations make (the checked files that are migrations,
    and the `.sql` files and Alembic revisions wherever they are), and the module names
    its Python and configuration files import or name."""
    found: dict[str, str] = {
        source.path: source.text for source in sources if source.is_migration
    }
    mentions = Mentions()
    for source in sources:
        mentions.add(source.path, source.text)
    checked = {source.path for source in sources}
    here = Path.cwd().resolve()
    roots = (
        [config.root]
        if config.root is not None
        else [
            here if path.resolve().is_relative_to(here) else _folder(path)
            for path in paths
        ]
    )
    for root in dict.fromkeys(root.resolve() for root in roots):
        for current, files in _folders(root):
            in_migrations = not MIGRATION_FOLDERS.isdisjoint(
                current.relative_to(root).parts
            )
            for name in files:
                migration = name.endswith(".sql") or (
                    in_migrations and name.endswith(".py")
                )
                mentioning = name.endswith(".py") or _names_modules(name)
                candidate = current / name
                shown = display_path(candidate)
                if not (migration or mentioning) or shown in checked or shown in found:
                    continue
                try:
                    if candidate.stat().st_size > _LARGEST_MIGRATION:
                        continue
                    text = candidate.read_bytes().decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if migration:
                    found[shown] = text
                if mentioning:
                    mentions.add(shown, text)
    return read_migrations(found.items()), mentions


def _names_modules(name: str) -> bool:
    """A configuration file that may start the project's modules: a Dockerfile's
    `uvicorn app.main:app`, a pyproject.toml's scripts, a Procfile, a compose file."""
    return name.endswith(_CONFIG_SUFFIXES) or name.startswith(_CONFIG_NAMES)


_CONFIG_SUFFIXES = (
    ".toml",
    ".cfg",
    ".ini",
    ".yaml",
    ".yml",
    ".sh",
    ".conf",
    ".service",
)
_CONFIG_NAMES = (
    "Dockerfile",
    "Procfile",
    "Makefile",
    "docker-compose",
    "Containerfile",
)


def _required_databases(paths: Sequence[Path], config: Config) -> set[str]:
    """The server databases the drivers in the project's dependency files are for: those
    in the checked folders and in each folder above them, up to the project's root."""
    top = (config.root or Path.cwd()).resolve()
    found: set[str] = set()
    seen: set[Path] = set()
    for path in paths:
        folder = _folder(path.resolve())
        while folder not in seen:
            seen.add(folder)
            candidates = [folder / name for name in DEPENDENCY_FILES]
            candidates.extend(folder.glob("requirements*.txt"))
            for candidate in candidates:
                try:
                    found |= databases_required(candidate.read_text("utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
            if (
                folder == top
                or folder.parent == folder
                or not folder.is_relative_to(top)
            ):
                break
            folder = folder.parent
    return found


def _folders(
    top: Path, keep: Callable[[Path], bool] = lambda _: True
) -> Iterator[tuple[Path, list[str]]]:
    """Each folder under `top` with its files, without hidden, virtualenv and build folders
    and those `keep` refuses (nor anything below them)."""
    for folder, dirs, files in os.walk(top):
        current = Path(folder)
        dirs[:] = sorted(
            name
            for name in dirs
            if not name.startswith(".")
            and name not in _SKIPPED_DIRS
            and keep(current / name)
        )
        yield current, files


def _folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _suppress(findings: Iterable[Finding], sources: list[SourceFile]) -> list[Finding]:
    """Drop findings silenced by `# noqa`, and run-time findings of a place found in the source.

    A run-time finding knows only its line (column 1); a static one knows its column
    too, so two problems on one line (`offset` and `limit`) both stay.
    """
    noqa = {source.path: parse_noqa(source.text.splitlines()) for source in sources}
    kept: dict[tuple[str, int, int, str], Finding] = {}
    located: set[tuple[str, int, str]] = set()
    for finding in sorted(findings, key=lambda f: f.column == 1):
        lines = noqa.get(finding.path)
        if (
            lines is None
            and finding.code != SYNTAX_ERROR
            and Path(finding.path).is_file()
        ):
            lines = noqa[finding.path] = parse_noqa(
                Path(finding.path).read_text("utf-8").splitlines()
            )
        codes = (lines or {}).get(finding.line, frozenset())
        if codes is None or finding.code in codes:
            continue
        place = (finding.path, finding.line, finding.code)
        if finding.column == 1 and place in located:
            continue
        located.add(place)
        kept.setdefault(
            (finding.path, finding.line, finding.column, finding.code), finding
        )
    return sorted(kept.values())


def _unparsable(path: str, exc: Exception, text: str) -> Finding:
    line = getattr(exc, "lineno", None) or 1
    column = getattr(exc, "offset", None) or 1
    newer = newer_syntax(text, line, column) if isinstance(exc, SyntaxError) else None
    if newer is not None:
        running = f"{sys.version_info[0]}.{sys.version_info[1]}"
        return Finding(
            path,
            line,
            column,
            SYNTAX_ERROR,
            Severity.ERROR,
            f"This file needs {newer.needs} ({newer.feature}); the doctor runs on "
            f"Python {running}, which cannot parse it, so no rule checked it.",
            f"Run the doctor on {newer.needs} or newer (install it into the "
            "environment your project runs on).",
        )
    reason = getattr(exc, "msg", None) or str(exc)
    return Finding(
        path,
        line,
        column,
        SYNTAX_ERROR,
        Severity.ERROR,
        f"Cannot parse this file ({reason}); no rule checked it.",
        "Fix the syntax error (the doctor reads files as UTF-8 Python).",
    )


def _excluded(path: Path, root: Path, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return False
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch(relative, pattern)
        or fnmatch(relative, pattern.rstrip("/") + "/*")
        or fnmatch(path.name, pattern)
        for pattern in patterns
    )
