"""Registering generated endpoints on a router: the one place `crud_router` and `link_router` share."""

from __future__ import annotations

import inspect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, params

from sqlmodel_production.api._endpoints import Logic, make_endpoint
from sqlmodel_production.api._scope import RowScope

__all__ = ["Routes"]


@dataclass(frozen=True)
class Routes:
    """Where a router's endpoints go, and what each of them gets.

    Attributes:
        router: the router the endpoints are added to.
        async_: async endpoints (on `AsyncSession`s), or sync ones.
        scope: the row scope; its dependency becomes a parameter of every endpoint.
        exclude: endpoints not to add.
        dependencies: more dependencies of some endpoints, by endpoint.
        tags: the OpenAPI tags of an endpoint that names none; the router's when None.
    """

    router: APIRouter
    async_: bool
    scope: RowScope | None = None
    exclude: Collection[str] = ()
    dependencies: Mapping[Any, Sequence[params.Depends]] = field(default_factory=dict)
    tags: list[str] | None = None

    def add(
        self,
        endpoint: str,
        path: str,
        method: str,
        name: str,
        logic: Logic,
        parameters: Sequence[inspect.Parameter],
        **options: Any,
    ) -> None:
        """Add the endpoint that runs `logic` with `parameters`, unless it is excluded.

        `options` go to `APIRouter.add_api_route` (`response_model`, `responses`,
        `status_code`, `dependencies`, `tags`).
        """
        if endpoint in self.exclude:
            return
        scope = self.scope
        if scope is not None:
            parameters = [*parameters, scope.parameter()]
        func = make_endpoint(
            logic,
            parameters,
            async_=self.async_,
            name=name,
            write=method != "GET",
            row_settings_of=(
                (lambda values: scope.settings_of(scope.of(values)))
                if scope is not None and scope.database_settings
                else None
            ),
        )
        if self.tags is not None:
            options.setdefault("tags", self.tags)
        dependencies = [
            *self.dependencies.get(endpoint, ()),
            *options.pop("dependencies", ()),
        ]
        self.router.add_api_route(
            path,
            func,
            methods=[method],
            name=name,
            dependencies=dependencies,
            **options,
        )
