"""The router-built service documents the same API as the hand-written one, except where we chose otherwise.

The deliberate differences, each asserted below (and listed in docs/reference-service.md):

1. Bulk create (`POST /heroes/bulk`, ...) and the mission's heroes as a paged list
   (`GET /missions/{mission_id}/heroes`) exist only in the router-built service.
2. List endpoints add `cursor`, `count`, and the allow-listed `order_by` and filter parameters.
3. Error answers are documented: 404 on item paths, 409 on writes.
4. Request schemas are derived: they forbid unknown fields and carry the table's constraints;
   the link body is the derived `HeroMissionLinkData...` schema instead of the hand-written `RoleUpdate`.
5. `DELETE` documents its `{"ok": true}` answer.
6. Integer ids in paths and integer body fields carry their column type's range, and
   endpoints that read a body document FastAPI's 400 for one that is not JSON.
7. Strings a client sends carry the no-NUL pattern, `order_by` and `cursor` their shapes,
   and `offset` says that it excludes a cursor.
"""

from __future__ import annotations

from typing import Any

import pytest

from sqlmodel_production import Database, DatabaseSettings
from sqlmodel_production.crud.internal import CURSOR_PATTERN
from sqlmodel_production.demo.app import create_app
from sqlmodel_production.demo.handwritten import create_app as create_handwritten_app
from sqlmodel_production.models import TEXT_PATTERN

METHODS = ("get", "post", "put", "patch", "delete")


def openapi(factory: Any) -> dict[str, Any]:
    database = Database(DatabaseSettings(_env_file=None, database_url="sqlite://"))  # type: ignore[call-arg]
    return factory(database).openapi()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    return openapi(create_app), openapi(create_handwritten_app)


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, m): op
        for path, item in document["paths"].items()
        for m, op in item.items()
        if m in METHODS
    }


def ref_name(schema: dict[str, Any] | None) -> str | None:
    if not schema:
        return None
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list[{ref_name(schema['items'])}]"
    return None


def test_same_operations_except_bulk(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory, handwritten = map(operations, documents)
    assert set(handwritten) <= set(factory)
    extra = set(factory) - set(handwritten)
    assert extra == {
        ("/heroes/bulk", "post"),
        ("/teams/bulk", "post"),
        ("/missions/bulk", "post"),
        ("/missions/{mission_id}/heroes", "get"),
    }  # difference 1


def test_same_ids_summaries_and_path_parameters(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory, handwritten = map(operations, documents)
    for key, theirs in handwritten.items():
        ours = factory[key]
        assert (ours["operationId"], ours["summary"], ours["tags"]) == (
            theirs["operationId"],
            theirs["summary"],
            theirs["tags"],
        ), key
        path = [p for p in ours.get("parameters", []) if p["in"] == "path"]
        their_path = [p for p in theirs.get("parameters", []) if p["in"] == "path"]
        assert [_unbounded(p) for p in path] == their_path, key
        assert all(p["schema"]["maximum"] == 2**31 - 1 for p in path), (
            key
        )  # difference 6


def test_list_parameters_are_a_superset(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory, handwritten = map(operations, documents)
    for path in ("/heroes/", "/teams/", "/missions/"):
        ours = {p["name"]: p for p in factory[(path, "get")]["parameters"]}
        theirs = {p["name"]: p for p in handwritten[(path, "get")]["parameters"]}
        assert ours["limit"]["schema"] == theirs["limit"]["schema"], path
        offset = dict(ours["offset"]["schema"])
        assert "cursor" in offset.pop("description")  # difference 7
        assert offset == theirs["offset"]["schema"], path
        assert {"cursor", "count"} <= set(ours) - set(theirs)  # difference 2
        cursor = ours["cursor"]["schema"]["anyOf"][0]
        assert cursor["pattern"] == CURSOR_PATTERN  # difference 7
        assert "offset" in ours["cursor"]["description"]
    order_by = {p["name"]: p for p in factory[("/heroes/", "get")]["parameters"]}[
        "order_by"
    ]["schema"]["anyOf"][0]
    assert order_by["pattern"].startswith("^(?: *[-+]?(?:")  # difference 7
    heroes = {p["name"] for p in factory[("/heroes/", "get")]["parameters"]}
    assert {
        "order_by",
        "name",
        "name__ilike",
        "age__gt",
        "age__is_null",
        "team_id__in",
    } <= heroes


def test_same_response_schemas(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory, handwritten = map(operations, documents)
    factory_components = documents[0]["components"]["schemas"]
    handwritten_components = documents[1]["components"]["schemas"]
    for key, theirs in handwritten.items():
        ours = factory[key]
        their_ok = ref_name(
            theirs["responses"]["200"]["content"]["application/json"]["schema"]
        )
        our_ok = ref_name(
            ours["responses"]["200"]["content"]["application/json"]["schema"]
        )
        if their_ok is None:  # the hand-written DELETE documents no body
            assert key[1] == "delete" and our_ok == "Deleted"  # difference 5
            continue
        assert our_ok == their_ok, key
        name = our_ok.removeprefix("list[").removesuffix("]")
        assert _fields(factory_components, name) == _fields(
            handwritten_components, name
        ), name


def test_errors_are_documented(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory = operations(documents[0])
    for (path, method), op in factory.items():
        if "{" in path:
            assert "404" in op["responses"], (path, method)  # difference 3
        if method in ("post", "patch") and "{" not in path.split("/")[-1]:
            assert "409" in op["responses"], (path, method)


def test_request_schemas_are_derived_and_strict(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    components = documents[0]["components"]["schemas"]
    for name in (
        "HeroCreate",
        "HeroUpdate",
        "TeamCreate",
        "TeamUpdate",
        "MissionCreate",
        "MissionUpdate",
    ):
        assert components[name]["additionalProperties"] is False, name  # difference 4
    assert "secret_name" not in components["HeroPublic"]["properties"]
    assert components["HeroCreate"]["properties"]["secret_name"]["maxLength"] == 255
    for name in ("HeroCreate", "HeroUpdate", "TeamCreate", "MissionUpdate"):
        assert components[name]["properties"]["name"]["pattern"] == TEXT_PATTERN  # 7


def _fields(components: dict[str, Any], name: str) -> dict[str, Any]:
    """Property names and their referenced types, for comparing Public shapes."""
    schema = components[name]
    return {
        key: ref_name(value) or value.get("type") or value.get("anyOf")
        for key, value in schema["properties"].items()
    }


def test_links_from_creates_point_at_existing_operations(
    documents: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    factory = operations(documents[0])
    ids = {op["operationId"] for op in factory.values()}
    links = factory[("/heroes/", "post")]["responses"]["200"]["links"]
    assert set(links) == {"read_hero", "update_hero", "delete_hero"}
    for prefix in ("/heroes/", "/teams/", "/missions/"):
        for link in factory[(prefix, "post")]["responses"]["200"]["links"].values():
            assert link["operationId"] in ids


def _unbounded(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = {
        k: v for k, v in parameter["schema"].items() if k not in ("minimum", "maximum")
    }
    return {**parameter, "schema": schema}
