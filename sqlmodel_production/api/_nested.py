"""The read endpoint: one row, with the relationships the router was asked to include."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException
from pydantic import BaseModel, create_model
from sqlalchemy.orm import Session, selectinload, with_loader_criteria
from sqlmodel import SQLModel

from sqlmodel_production.api._conventions import (
    DEFAULT_CONVENTIONS,
    Conventions,
    outside_or_missing,
)
from sqlmodel_production.api._endpoints import Logic, json_response, on_reads
from sqlmodel_production.api._responses import etag_headers
from sqlmodel_production.api._scope import RowScope, scope_of
from sqlmodel_production.crud import Repository
from sqlmodel_production.crud.internal import (
    INCLUDE_LIMIT,
    RelatedLoad,
    StatementCache,
    related_load,
    scope_condition,
    scope_shape,
)
from sqlmodel_production.db.internal import Prepared, Runner
from sqlmodel_production.models import SoftDelete

__all__ = ["TRUNCATED", "read_logic", "read_model"]

TRUNCATED = "X-Include-Truncated"
"""The header naming the included relationships cut at their limit (comma-separated)."""


def read_model(
    model: type[SQLModel], public: type[SQLModel], include: Mapping[str, type[SQLModel]]
) -> type[BaseModel]:
    """`HeroPublicWithTeam`: the Public schema plus each included relationship."""
    if not include:
        return public
    fields = {key: _annotation(model, key, schema) for key, schema in include.items()}
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{public.__name__}With{''.join(k.title() for k in include)}",
        __base__=public,
        **fields,
    )


def read_logic(
    repository: Repository[Any],
    include: Mapping[str, type[SQLModel]],
    *,
    id_name: str,
    not_found: str,
    limits: Mapping[str, int] | None = None,
    scope: RowScope | None = None,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> Logic:
    """Read one row by key; related rows by Core statements built once, or by the ORM for nested schemas.

    An included to-many relationship gives at most its limit of rows (`limits`,
    `INCLUDE_LIMIT` for those it does not name), in the relationship's `order_by`
    or by the related primary key; the `X-Include-Truncated` header names the
    relationships that had more.
    """
    read = _Read(
        repository,
        include,
        id_name=id_name,
        not_found=not_found,
        limits={key: (limits or {}).get(key, INCLUDE_LIMIT) for key in include},
        scope=scope,
        conventions=conventions,
    )
    if not include:
        return _read_one(read)
    loads = [
        related_load(
            repository.model, key, schema, limit=read.limits[key], scope=read.scoped
        )
        for key, schema in include.items()
    ]
    if any(load is None for load in loads):
        return _read_with_orm(read)
    return _read_with_core(read, [load for load in loads if load is not None])


@dataclass(frozen=True)
class _Read:
    """What a read endpoint needs, whichever way it loads the included rows."""

    repository: Repository[Any]
    include: Mapping[str, type[SQLModel]]
    id_name: str
    not_found: str
    limits: Mapping[str, int]
    scope: RowScope | None
    conventions: Conventions

    @property
    def scoped(self) -> tuple[str, ...]:
        return self.scope.columns if self.scope is not None else ()

    def missing(self, target: Any, values: Mapping[str, Any]) -> HTTPException:
        return outside_or_missing(
            self.repository,
            self.conventions,
            self.scope,
            target,
            values[self.id_name],
            self.not_found,
        )


def _read_one(read: _Read) -> Logic:
    repository, scope = read.repository, read.scope

    @on_reads
    def read_one(reads: Runner, **values: Any) -> Any:
        row = repository.read(
            reads, values[read.id_name], scope=scope_of(scope, values)
        )
        if row is None:
            raise read.missing(reads, values)
        return json_response(row, headers=etag_headers(repository.version, row))

    return read_one


def _read_with_orm(read: _Read) -> Logic:
    """Included schemas the Core path cannot fill (nested ones): the ORM loads the objects."""
    repository, model, include = read.repository, read.repository.model, read.include
    loaders: list[Any] = [selectinload(getattr(model, key)) for key in include]
    related_classes = [getattr(model, key).property.mapper.class_ for key in include]
    for (
        related
    ) in related_classes:  # soft-deleted related rows stay out, as on the Core path
        if issubclass(related, SoftDelete):
            loaders.append(with_loader_criteria(related, related.deleted_at.is_(None)))

    def scoped_loaders(scope: Mapping[str, Any] | None) -> list[Any]:
        """Related rows of another scope stay out, as on the Core path."""
        found = []
        for related in related_classes:
            conditions = [
                condition
                for c in read.scoped
                if scope
                and c in related.__table__.c
                and (condition := scope_condition(getattr(related, c), scope[c]))
                is not None
            ]
            if conditions:
                found.append(with_loader_criteria(related, sa.and_(*conditions)))
        return found

    def read_with_orm(session: Session, **values: Any) -> Any:
        scope = scope_of(read.scope, values)
        query = (
            sa.select(model)
            .where(
                repository.pk == values[read.id_name], *repository.criteria(scope or {})
            )
            .options(*loaders, *scoped_loaders(scope))
        )
        params = repository.scope_parameters(scope, shaped=True)
        obj = session.scalars(query, params).first()
        if obj is None:
            raise read.missing(session, values)
        data = repository.public.model_validate(obj).model_dump(mode="json")
        cut = []
        for key, schema in include.items():
            related = getattr(obj, key)
            if not isinstance(related, list):
                data[key] = _dump(schema, related)
                continue
            if len(related) > read.limits[key]:
                cut.append(key)
            data[key] = [
                _dump(schema, item)
                for item in _in_order(model, key, related)[: read.limits[key]]
            ]
        return _answer(data, cut, repository)

    return read_with_orm


def _read_with_core(read: _Read, loads: list[RelatedLoad]) -> Logic:
    """One statement per relationship, no identity map, no second validation."""
    repository = read.repository
    keys = {c for load in loads for c in load.keys} - set(repository.columns)
    statements = StatementCache()
    public_names = [c.name for c in repository.columns]

    def statement_for(scope: Mapping[str, Any] | None) -> Prepared:
        """The row's statement for a scope of this shape (one value, several, every one)."""
        return statements.get(
            "read",
            scope_shape(scope),
            lambda: Prepared(
                sa.select(*repository.columns, *keys).where(
                    repository.pk == sa.bindparam("pk"),
                    *repository.criteria(scope or {}),
                )
            ),
        )

    @on_reads
    def read_with_core(reads: Runner, **values: Any) -> Any:
        scope = scope_of(read.scope, values)
        params = {
            "pk": values[read.id_name],
            **repository.scope_parameters(scope, shaped=True),
        }
        found = reads.first(statement_for(scope), params)
        if found is None:
            raise read.missing(reads, values)
        data = {name: found[name] for name in public_names}
        cut = []
        for load in loads:
            data[load.name], truncated = load(reads, found, scope)
            if truncated:
                cut.append(load.name)
        return _answer(data, cut, repository)

    return read_with_core


def _answer(data: dict[str, Any], cut: list[str], repository: Repository[Any]) -> Any:
    headers = etag_headers(repository.version, data)
    if cut:
        headers[TRUNCATED] = ", ".join(cut)
    return json_response(data, headers=headers)


def _dump(schema: type[SQLModel], obj: Any) -> Any:
    return None if obj is None else schema.model_validate(obj).model_dump(mode="json")


def _in_order(model: type[SQLModel], key: str, items: list[Any]) -> list[Any]:
    """Related objects in the relationship's `order_by`, else by primary key (the ORM loads them unordered)."""
    relationship = getattr(model, key).property
    if relationship.order_by:
        return items
    mapper = relationship.mapper
    return sorted(items, key=lambda item: mapper.primary_key_from_instance(item))


def _annotation(
    model: type[SQLModel], key: str, schema: type[SQLModel]
) -> tuple[Any, Any]:
    if getattr(model, key).property.uselist:
        return list[schema], []  # type: ignore[valid-type]
    return schema | None, None
