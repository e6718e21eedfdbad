"""The doctor's three output formats (text, JSON, SARIF 2.1.0) and `--explain`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from ._findings import Finding, Severity
from ._rule import Rule
from ._runner import Report

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_explain", "render_json", "render_sarif", "render_text"]

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFORMATION_URI = "https://github.com/sqlmodel-production/sqlmodel-production/blob/main/docs/doctor.md"
_STYLES = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


def render_json(findings: Sequence[Finding]) -> str:
    """A JSON list of findings, each with code, severity, path, line, column, message and fix."""
    return json.dumps([finding.as_dict() for finding in findings], indent=2)


def render_sarif(
    findings: Sequence[Finding], rules: Sequence[Rule], version: str
) -> str:
    """A SARIF 2.1.0 log that GitHub code scanning accepts (paths relative to the checkout)."""
    index = {rule.code: position for position, rule in enumerate(rules)}
    descriptors: list[dict[str, Any]] = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.rationale},
            "help": {
                "text": f"{rule.rationale}\n\nBad:\n{rule.bad}\nGood:\n{rule.good}",
                "markdown": (
                    f"{rule.rationale}\n\nBad:\n\n```python\n{rule.bad}```\n\n"
                    f"Good:\n\n```python\n{rule.good}```"
                ),
            },
            "helpUri": f"{_INFORMATION_URI}#{rule.code.lower()}",
            "defaultConfiguration": {"level": rule.severity.sarif_level},
            "properties": {"tags": ["sqlmodel", "database"]},
        }
        for rule in rules
    ]
    results: list[dict[str, Any]] = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": finding.severity.sarif_level,
            "message": {"text": f"{finding.message} Fix: {finding.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": finding.path,
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": finding.line,
                            "startColumn": finding.column,
                        },
                    }
                }
            ],
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        results.append(result)
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sqlmodel-production doctor",
                        "informationUri": _INFORMATION_URI,
                        "semanticVersion": version,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


def render_text(report: Report, threshold: Severity, console: Console) -> None:
    """Findings grouped by file, then a one-line summary. Colors only when `console` has them."""
    from rich.text import Text

    for path, group in groupby(report.findings, key=lambda finding: finding.path):
        console.print(Text(path, style="bold underline"), soft_wrap=True)
        for finding in group:
            line = Text("  ")
            line.append(f"{finding.line}:{finding.column}", style="dim")
            line.append(" ")
            line.append(finding.code, style=_STYLES[finding.severity])
            line.append(
                f" [{finding.severity.value}] ", style=_STYLES[finding.severity]
            )
            line.append(finding.message)
            console.print(line, soft_wrap=True)
            fix = Text("    fix: ", style="green")
            fix.append(finding.fix, style="default")
            console.print(fix, soft_wrap=True)
        console.print()
    for notice in report.notices:
        console.print(Text(f"Note: {notice}", style="yellow"), soft_wrap=True)
    style = "bold red" if report.failing(threshold) else "bold green"
    console.print(Text(_summary(report, threshold), style=style), soft_wrap=True)


def _summary(report: Report, threshold: Severity) -> str:
    files = _plural(report.files, "file")
    if not report.findings:
        return f"No problems found in {files}."
    counts = ", ".join(
        _plural(count, severity.value)
        for severity in reversed(Severity)
        if (count := sum(f.severity is severity for f in report.findings))
    )
    failing = len(report.failing(threshold))
    verdict = (
        f"{failing} at or above {threshold.value}"
        if failing
        else f"none at or above {threshold.value}"
    )
    return f"Found {_plural(len(report.findings), 'problem')} ({counts}) in {files}; {verdict}."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_explain(rule: Rule, console: Console) -> None:
    """A rule's code, title, severity, rationale and examples."""
    from rich.syntax import Syntax
    from rich.text import Text

    console.print(Text(f"{rule.code}: {rule.title}", style="bold"), soft_wrap=True)
    console.print(f"Severity: {rule.severity.value}", soft_wrap=True)
    console.print()
    console.print(rule.rationale, soft_wrap=True)
    for label, example in (("Bad", rule.bad), ("Good", rule.good)):
        console.print()
        console.print(
            Text(f"{label}:", style="bold red" if label == "Bad" else "bold green")
        )
        console.print(
            Syntax(
                example.rstrip("\n"),
                "python",
                theme="ansi_dark",
                background_color="default",
            )
        )
