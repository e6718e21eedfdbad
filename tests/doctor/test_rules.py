"""Each rule's own documentation: stable codes, and examples that behave as they claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmodel_production.doctor import RULES, RULES_BY_CODE, Rule, Severity

from ._helpers import MODELS, found

STATIC = [rule for rule in RULES if rule.code != "SMP017"]


def test_codes_are_stable_and_contiguous() -> None:
    assert [rule.code for rule in RULES] == [f"SMP{n:03d}" for n in range(1, 20)]


def test_one_rule_per_module_named_after_the_rule() -> None:
    modules = [type(rule).__module__ for rule in RULES]
    assert len(set(modules)) == len(RULES)
    for rule in RULES:
        assert type(rule).__name__.endswith("Rule")
        assert rule.name == type(rule).__name__.removesuffix("Rule")


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_is_documented(rule: Rule) -> None:
    assert rule.title and not rule.title.endswith(".")
    assert rule.rationale.endswith(".") and "\n" not in rule.rationale
    assert isinstance(rule.severity, Severity)
    assert rule.bad.endswith("\n") and rule.good.endswith("\n")
    assert rule.bad != rule.good


@pytest.mark.parametrize("rule", STATIC, ids=lambda rule: rule.code)
def test_bad_example_is_found(rule: Rule, tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(rule.bad)
    assert {code for _, code in found(example, MODELS)} == {rule.code}


@pytest.mark.parametrize("rule", STATIC, ids=lambda rule: rule.code)
def test_good_example_is_clean(rule: Rule, tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(rule.good)
    assert found(example, MODELS) == set()


def test_a_lazy_load_in_a_test_is_left_to_the_test(tmp_path: Path) -> None:
    # The test that meets `MissingGreenlet` fails on its own; the service's code is checked.
    rule = RULES_BY_CODE["SMP014"]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_heroes.py").write_text(rule.bad)
    (tmp_path / "app.py").write_text(rule.bad)
    assert found(tmp_path / "tests" / "test_heroes.py", MODELS) == set()
    assert {code for _, code in found(tmp_path / "app.py", MODELS)} == {"SMP014"}
