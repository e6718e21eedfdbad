"""Validating many rows in one pydantic call, against a table model's column fields (pure, no I/O)."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, Required

import sqlalchemy as sa
from pydantic import ConfigDict, TypeAdapter, with_config
from sqlmodel import SQLModel
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from sqlmodel_production._compat import has_validators

__all__ = ["rows_adapter"]

# SQLModel's own keys in `model_config`, which pydantic does not know.
_SQLMODEL_CONFIG = {"table", "registry", "read_from_attributes", "read_with_orm_mode"}


def rows_adapter(
    model: type[SQLModel], table: sa.Table
) -> TypeAdapter[list[dict[str, Any]]] | None:
    """A validator of a list of mappings into plain dicts of the model's column fields.

    It applies the same annotations, constraints, defaults and configuration as
    `model.model_validate`, with errors at `loc = (index, field)`, but builds no
    model instance: a table model's instances are SQLAlchemy-instrumented and
    cost far more to build than to validate. None when the model has validators
    or a default factory that reads other fields: those need the model itself.
    """
    if has_validators(model):
        return None
    fields = {
        name: field for name, field in model.model_fields.items() if name in table.c
    }
    if any(
        getattr(field, "default_factory_takes_validated_data", False)
        for field in fields.values()
    ):
        return None
    config = ConfigDict(
        **{  # type: ignore[typeddict-item]
            key: value
            for key, value in model.model_config.items()
            if key not in _SQLMODEL_CONFIG and key != "from_attributes"
        }
    )
    # A TypedDict made at run time: type checkers see it as a dict.
    fields_of_a_row = {
        name: (Required if field.is_required() else NotRequired)[
            Annotated[field.annotation, field]
        ]
        for name, field in fields.items()
    }
    rows = TypedDict(f"{model.__name__}Values", fields_of_a_row)  # type: ignore[misc]
    return TypeAdapter(list[with_config(config)(rows)])  # type: ignore[arg-type,misc]
