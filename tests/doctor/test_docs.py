"""docs/doctor.md lists every rule as the code defines it.

The rules section is generated; after changing a rule, run
`python -m tests.doctor.test_docs` to rewrite it.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel_production.doctor import RULES

DOC = Path(__file__).parents[2] / "docs" / "doctor.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->\n"


def render_rules() -> str:
    parts = ["| code | rule | severity |\n|---|---|---|\n"]
    parts.extend(
        f"| [{rule.code}](#{rule.code.lower()}) | {rule.title} | {rule.severity.value} |\n"
        for rule in RULES
    )
    for rule in RULES:
        parts.append(
            f"\n### {rule.code}\n\n**{rule.title}** ({rule.severity.value})\n\n{rule.rationale}\n\n"
            f"Bad:\n\n```python\n{rule.bad}```\n\nGood:\n\n```python\n{rule.good}```\n"
        )
    return "".join(parts)


def current_section() -> str:
    text = DOC.read_text()
    return text[text.index(START) + len(START) : text.index(END)]


def test_rules_section_is_up_to_date() -> None:
    assert current_section() == render_rules()


if __name__ == "__main__":
    text = DOC.read_text()
    head, tail = text[: text.index(START) + len(START)], text[text.index(END) :]
    DOC.write_text(head + render_rules() + tail)
