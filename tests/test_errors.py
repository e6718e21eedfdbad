"""One root for every exception of the package, and `sqlmodel_production.errors` lists them all."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import pytest

import sqlmodel_production
from sqlmodel_production import errors


def defined_in_package() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(
        sqlmodel_production.__path__, sqlmodel_production.__name__ + "."
    ):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return sorted(set(found), key=lambda cls: cls.__name__)


def test_every_exception_has_the_root_and_is_listed() -> None:
    for cls in defined_in_package():
        if issubclass(cls, Warning):
            assert issubclass(cls, UserWarning), cls
        else:
            assert issubclass(cls, errors.SQLModelProductionError), cls
        assert getattr(errors, cls.__name__) is cls, f"{cls.__name__} not in errors"


def test_the_root_is_importable_from_the_package() -> None:
    assert sqlmodel_production.SQLModelProductionError is errors.SQLModelProductionError


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("sqlmodel_production.db", "DatabaseError", "ClassifiedError"),
        ("sqlmodel_production.api", "HTTPError", "ErrorBody"),
    ],
)
def test_renamed_models_keep_a_deprecated_alias(
    module: str, old: str, new: str
) -> None:
    namespace = importlib.import_module(module)
    alias, current = getattr(namespace, old), getattr(namespace, new)
    assert issubclass(alias, current)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if new == "ErrorBody":
            alias(detail="x")
        else:
            alias(errors.ErrorKind.DEADLOCK, code="40P01")
    assert any(
        issubclass(w.category, DeprecationWarning) and new in str(w.message)
        for w in caught
    )
