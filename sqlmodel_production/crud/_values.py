"""The column values a create writes: validated, with the table model's defaults and a scope's stamp (no I/O)."""

from __future__ import annotations

import builtins
import copy
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import SQLModel

from sqlmodel_production.crud._validation import rows_adapter

__all__ = ["RowValues", "named"]


class RowValues:
    """Turns what a create is given (a Create schema instance, a mapping) into one table row's values.

    Built once per table model: its Python defaults, the columns the server
    fills, and the validator of many mappings at once.
    """

    def __init__(
        self, model: type[SQLModel], table: sa.Table, version: sa.Column[Any] | None
    ) -> None:
        self.model = model
        self.table = table
        self.version = version
        (pk,) = table.primary_key.columns
        # The table model's Python defaults, for columns a schema instance does not carry.
        fields = {
            n: f
            for n, f in model.model_fields.items()
            if n in table.c and not f.is_required()
        }
        self._defaults: dict[str, Callable[[], Any]] | None = {
            name: cast(Callable[[], Any], field.default_factory)
            if field.default_factory is not None
            else functools.partial(copy.copy, field.default)
            for name, field in fields.items()
        }
        if any(
            getattr(f, "default_factory_takes_validated_data", False)
            for f in fields.values()
        ):
            self._defaults = (
                None  # a factory that reads other fields needs full validation
            )
        self._skip_when_none = {
            c.name
            for c in table.columns
            if c.server_default is not None
            or (c is pk and c.autoincrement in (True, "auto"))
        }
        # Bulk creates validate all their mappings in one call (None: one by one).
        self._rows = rows_adapter(model, table)
        self._rows_by_key = not set(table.c.keys()) <= set(model.model_fields) or any(
            c.name != c.key for c in table.columns
        )

    def one(
        self, data: SQLModel | Mapping[str, Any], stamp: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The column values to insert, with the table model's defaults and `stamp` applied.

        A mapping is validated against the table model. A schema instance (the
        Create body FastAPI just validated) is not validated a second time: its
        fields only get the table model's defaults for what it does not carry.
        The `stamp` (a scope's values) wins over whatever the data says.
        """
        if (
            self._defaults is not None
            and isinstance(data, BaseModel)
            and not isinstance(data, self.model)
        ):
            values = {k: v for k, v in data.model_dump().items() if k in self.table.c}
            for name, default in self._defaults.items():
                if name not in values:
                    values[name] = default()
            values.update(stamp)
        else:
            source = (
                data.model_dump(exclude_unset=True)
                if isinstance(data, BaseModel)
                else data
            )
            row = self.model.model_validate({**source, **stamp} if stamp else source)
            values = {
                column.name: getattr(row, column.key, None)
                for column in self.table.columns
            }
        return self.finish(values)

    def many(
        self,
        items: Sequence[SQLModel | Mapping[str, Any]],
        stamps: Sequence[Mapping[str, Any]],
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[dict[str, Any]]]:
        """`one` of every item with its stamp, or the errors of every invalid field, `loc` = (index, field)."""
        values: builtins.list[dict[str, Any]] = []
        if self._rows is None:
            errors: builtins.list[dict[str, Any]] = []
            for index, item in enumerate(items):
                try:
                    values.append(self.one(item, stamps[index]))
                except ValidationError as exc:
                    errors += [
                        {"type": e["type"], "loc": [index, *e["loc"]], "msg": e["msg"]}
                        for e in exc.errors(include_url=False, include_input=False)
                    ]
            return values, errors
        # Mappings are validated all in one call; a schema instance is not validated again.
        indexes: Sequence[int]
        mappings: Sequence[Any]
        if any(isinstance(item, BaseModel) for item in items):
            indexes, mappings = [], []
            for index, item in enumerate(items):
                if isinstance(item, BaseModel) and not isinstance(item, self.model):
                    values.append(self.one(item, stamps[index]))
                    continue
                indexes.append(index)
                mapping = (
                    item.model_dump(exclude_unset=True)
                    if isinstance(item, BaseModel)
                    else item
                )
                stamp = stamps[index]
                mappings.append({**mapping, **stamp} if stamp else mapping)
                values.append({})
        else:
            indexes = range(len(items))
            mappings = [
                {**cast(Mapping[str, Any], item), **stamp} if stamp else item
                for item, stamp in zip(items, stamps, strict=True)
            ]
            values = [{}] * len(items)  # each replaced below
        try:
            rows = self._rows.validate_python(mappings)
        except ValidationError as exc:
            return [], [
                {
                    "type": e["type"],
                    "loc": [indexes[e["loc"][0]], *e["loc"][1:]],  # type: ignore[index]
                    "msg": e["msg"],
                }
                for e in exc.errors(include_url=False, include_input=False)
            ]
        columns = self.table.columns
        for index, row in zip(indexes, rows, strict=True):
            if self._rows_by_key:
                row = {c.name: row.get(c.key) for c in columns}
            values[index] = self.finish(row)
        return values, []

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        """Leave server-generated values to the server; start the version at 1."""
        for name in self._skip_when_none:
            if values.get(name, 0) is None:
                del values[name]
        if self.version is not None:
            values[self.version.name] = 1
        return values


def named(
    data: SQLModel | Mapping[str, Any], columns: Collection[str]
) -> dict[str, Any]:
    """The values a row to create gives for `columns` itself (None where it gives none)."""
    if isinstance(data, Mapping):
        return {c: data.get(c) for c in columns}
    return {c: getattr(data, c, None) for c in columns}
