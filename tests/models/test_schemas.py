"""derive_schemas: the seed's Hero schemas from one table model, and the rules behind them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Field, SQLModel

from sqlmodel_production.models import (
    READ_ONLY,
    TEXT_PATTERN,
    UUIDPK,
    WRITE_ONLY,
    ForeignKeyField,
    IntPK,
    SoftDelete,
    StringField,
    Timestamps,
    Versioned,
    derive_schemas,
)


# The seed's hand-written schemas, verbatim (SKILL.md "The Four Model Types"); the table
# gets a distinct class and table name, as other test modules share SQLModel's registry.
class HeroBase(SQLModel):
    name: str = Field(max_length=100, index=True)
    age: int | None = Field(default=None, index=True)


class MxSeedHero(HeroBase, table=True):
    __tablename__ = "mx_seed_hero"
    id: int | None = Field(default=None, primary_key=True)
    secret_name: str = Field(max_length=255)


class HeroCreate(HeroBase):
    secret_name: str


class HeroPublic(HeroBase):
    id: int


class HeroUpdate(SQLModel):
    name: str | None = None
    age: int | None = None


Derived = derive_schemas(MxSeedHero, write_only={"secret_name"}, name="Hero")


def test_derived_class_names_match_hand_written_ones() -> None:
    assert [schema.__name__ for schema in Derived] == [
        "HeroCreate",
        "HeroPublic",
        "HeroUpdate",
    ]
    assert Derived.Create is Derived[0]


INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}


def test_public_json_schema_equals_the_seed() -> None:
    assert Derived.Public.model_json_schema() == HeroPublic.model_json_schema()


def test_create_json_schema_equals_the_seed_but_for_listed_differences() -> None:
    expected = HeroCreate.model_json_schema()
    # Difference 1: unknown fields are refused.
    expected["additionalProperties"] = False
    # Difference 2: secret_name keeps the table's max_length.
    expected["properties"]["secret_name"]["maxLength"] = 255
    # Difference 6: an integer keeps its column type's range (INTEGER: 32 bits).
    expected["properties"]["age"]["anyOf"][0].update(INT32)
    # Difference 7: strings refuse a NUL character.
    for name in ("name", "secret_name"):
        expected["properties"][name]["pattern"] = TEXT_PATTERN
    assert Derived.Create.model_json_schema() == expected


def test_update_json_schema_equals_the_seed_but_for_listed_differences() -> None:
    expected = HeroUpdate.model_json_schema()
    # Difference 1: unknown fields are refused.
    expected["additionalProperties"] = False
    # Difference 3: a NOT NULL column is not nullable, and keeps its constraints.
    expected["properties"]["name"] = {
        "maxLength": 100,
        "pattern": TEXT_PATTERN,  # difference 7
        "title": "Name",
        "type": "string",
    }
    # Difference 4: no `default: null`; an omitted field is left unchanged.
    del expected["properties"]["age"]["default"]
    # Difference 6: an integer keeps its column type's range.
    expected["properties"]["age"]["anyOf"][0].update(INT32)
    # Difference 5: every writable field is there, write-only ones included.
    expected["properties"]["secret_name"] = {
        "maxLength": 255,
        "pattern": TEXT_PATTERN,  # difference 7
        "title": "Secret Name",
        "type": "string",
    }
    assert Derived.Update.model_json_schema() == expected
    assert "required" not in Derived.Update.model_json_schema()


def test_hand_written_and_derived_schemas_work_side_by_side() -> None:
    body = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": 30}
    from_seed = MxSeedHero.model_validate(HeroCreate.model_validate(body))
    from_derived = MxSeedHero.model_validate(Derived.Create.model_validate(body))
    assert from_seed.model_dump() == from_derived.model_dump()
    from_derived.id = 7
    assert HeroPublic.model_validate(from_derived).model_dump() == {
        "name": "Deadpond",
        "age": 30,
        "id": 7,
    }
    assert Derived.Public.model_validate(from_derived).model_dump() == {
        "name": "Deadpond",
        "age": 30,
        "id": 7,
    }


def test_public_never_carries_the_write_only_field() -> None:
    hero = MxSeedHero(id=1, name="Deadpond", secret_name="Dive Wilson")
    assert "secret_name" not in Derived.Public.model_fields
    assert "secret_name" not in Derived.Public.model_validate(hero).model_dump()


@pytest.mark.parametrize("schema", ["Create", "Update"])
def test_sending_the_id_or_an_unknown_field_is_refused(schema: str) -> None:
    body = {"name": "Deadpond", "secret_name": "Dive Wilson"}
    model = getattr(Derived, schema)
    for extra in ({"id": 5}, {"is_admin": True}):
        with pytest.raises(ValidationError) as info:
            model.model_validate(body | extra)
        assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


def test_create_carries_the_table_constraints() -> None:
    with pytest.raises(ValidationError) as info:
        Derived.Create.model_validate({"name": "x" * 101, "secret_name": "s" * 256})
    assert sorted(e["loc"][0] for e in info.value.errors()) == ["name", "secret_name"]


def test_update_tells_not_sent_from_sent_as_null() -> None:
    assert Derived.Update.model_validate({}).model_dump(exclude_unset=True) == {}
    cleared = Derived.Update.model_validate({"age": None})
    assert cleared.model_dump(exclude_unset=True) == {"age": None}
    renamed = Derived.Update.model_validate({"name": "Rusty-Man"})
    assert renamed.model_dump(exclude_unset=True) == {"name": "Rusty-Man"}


def test_update_refuses_null_for_a_not_null_column_the_seed_lets_through() -> None:
    assert HeroUpdate.model_validate({"name": None}).model_dump(exclude_unset=True) == {
        "name": None
    }
    for field in ("name", "secret_name"):
        with pytest.raises(ValidationError) as info:
            Derived.Update.model_validate({field: None})
        assert [e["loc"] for e in info.value.errors()] == [(field,)]


def test_update_applies_only_the_sent_fields() -> None:
    hero = MxSeedHero(id=1, name="Deadpond", age=30, secret_name="Dive Wilson")
    hero.sqlmodel_update(
        Derived.Update.model_validate({"age": None}).model_dump(exclude_unset=True)
    )
    assert (hero.name, hero.age, hero.secret_name) == ("Deadpond", None, "Dive Wilson")


def test_deriving_twice_returns_the_same_classes() -> None:
    again = derive_schemas(MxSeedHero, write_only=["secret_name"], name="Hero")
    assert again is Derived
    other = derive_schemas(MxSeedHero, name="Hero")
    assert other is not Derived
    assert "secret_name" in other.Public.model_fields


class MxArticle(IntPK, Timestamps, SoftDelete, Versioned, table=True):
    title: str = StringField(max_length=80, description="Shown in lists")
    slug: str = StringField(max_length=80, pattern=r"^[a-z-]+$", unique=True)
    body: str | None = StringField(default=None, max_length=2000)
    status: str = Field(default="draft", max_length=20)
    views: int = Field(default=0, ge=0, sa_column_kwargs={"info": {READ_ONLY: True}})
    token: str = Field(max_length=40, sa_column_kwargs={"info": {WRITE_ONLY: True}})
    internal: str | None = Field(default=None, max_length=40, exclude=True)


ArticleSchemas = derive_schemas(MxArticle)


def test_server_generated_columns_are_in_public_only() -> None:
    generated = {"id", "created_at", "updated_at", "version", "deleted_at", "views"}
    assert generated <= ArticleSchemas.Public.model_fields.keys()
    assert not generated & ArticleSchemas.Create.model_fields.keys()
    assert not generated & ArticleSchemas.Update.model_fields.keys()


def test_write_only_marks_come_from_column_info_and_field_exclude() -> None:
    assert {"token", "internal"} <= ArticleSchemas.Create.model_fields.keys()
    assert not {"token", "internal"} & ArticleSchemas.Public.model_fields.keys()


def test_public_marks_not_null_columns_required() -> None:
    schema = ArticleSchemas.Public.model_json_schema()
    assert set(schema["required"]) == {
        "id",
        "created_at",
        "updated_at",
        "version",
        "title",
        "slug",
        "status",
        "views",
    }
    assert schema["properties"]["version"] == {"title": "Version", "type": "integer"}
    assert schema["properties"]["created_at"] == {
        "format": "date-time",
        "title": "Created At",
        "type": "string",
    }


def test_create_keeps_python_defaults_descriptions_and_patterns() -> None:
    properties = ArticleSchemas.Create.model_json_schema()["properties"]
    assert properties["status"] == {
        "default": "draft",
        "maxLength": 20,
        "pattern": TEXT_PATTERN,
        "title": "Status",
        "type": "string",
    }
    assert properties["title"]["description"] == "Shown in lists"
    assert properties["slug"]["pattern"] == "^[a-z-]+$"
    with pytest.raises(ValidationError):
        ArticleSchemas.Create.model_validate(
            {"title": "t", "slug": "Not A Slug", "token": "x"}
        )


@pytest.mark.parametrize("schema", ["Create", "Update"])
def test_strings_refuse_a_nul_and_numbers_take_numbers_only(schema: str) -> None:
    """Differences 7 and 8: what the JSON Schema says is what is validated."""
    model = getattr(Derived, schema)
    good = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": 30.0}
    assert model.model_validate_json(json.dumps(good)).age == 30
    for field, value, kind in [
        ("name", "Dead\x00pond", "string_pattern_mismatch"),
        ("secret_name", "\x00", "string_pattern_mismatch"),
        ("age", False, "int_type"),
        ("age", "30", "int_type"),
    ]:
        data = {**good, field: value}
        for validate, given in (
            (model.model_validate, data),
            (model.model_validate_json, json.dumps(data)),
        ):
            with pytest.raises(ValidationError) as caught:
                validate(given)
            [error] = caught.value.errors()
            assert (error["type"], error["loc"]) == (kind, (field,))


def test_a_field_with_a_pattern_of_its_own_keeps_it() -> None:
    slug = ArticleSchemas.Create.model_json_schema()["properties"]["slug"]
    assert slug["pattern"] == "^[a-z-]+$"


def test_read_only_and_exclude_options() -> None:
    schemas = derive_schemas(
        MxArticle, read_only={"slug"}, exclude={"body"}, name="MxArticleAlt"
    )
    assert "slug" not in schemas.Create.model_fields
    assert "slug" not in schemas.Update.model_fields
    assert "slug" in schemas.Public.model_fields
    for schema in schemas:
        assert "body" not in schema.model_fields


def test_public_extra_adds_fields() -> None:
    schemas = derive_schemas(
        MxArticle, public_extra={"score": (float, 0.0)}, name="Scored"
    )
    assert schemas.Public.model_fields["score"].default == 0.0
    assert "score" not in schemas.Create.model_fields


def test_unknown_option_names_are_refused() -> None:
    with pytest.raises(ValueError, match="write_only: MxSeedHero has no field secret"):
        derive_schemas(MxSeedHero, write_only={"secret"})


def test_non_table_models_are_refused() -> None:
    with pytest.raises(TypeError, match="HeroBase is not a table model"):
        derive_schemas(HeroBase)


class MxTag(SQLModel, table=True):
    code: str = StringField(max_length=20, primary_key=True)
    label: str = StringField(max_length=50)


class MxArticleTag(SQLModel, table=True):
    article_id: int = ForeignKeyField("mxarticle.id", primary_key=True)
    tag_code: str = ForeignKeyField("mxtag.code", primary_key=True)
    weight: int = 1


class MxToken(UUIDPK, table=True):
    label: str = StringField(max_length=50)


@pytest.mark.parametrize(
    ("model", "create", "update"),
    [
        (MxTag, {"code", "label"}, {"label"}),
        (MxArticleTag, {"article_id", "tag_code", "weight"}, {"weight"}),
        (MxToken, {"label"}, {"label"}),
    ],
    ids=["natural-key", "link-table", "uuid-key"],
)
def test_client_supplied_keys_are_created_but_never_updated(
    model: Any, create: set[str], update: set[str]
) -> None:
    schemas = derive_schemas(model)
    assert set(schemas.Create.model_fields) == create
    assert set(schemas.Update.model_fields) == update
    assert "id" not in schemas.Create.model_fields


def test_uuid_key_is_generated_when_the_row_is_built() -> None:
    schemas = derive_schemas(MxToken)
    token = MxToken.model_validate(schemas.Create.model_validate({"label": "ci"}))
    assert isinstance(token.id, uuid.UUID)
    assert schemas.Public.model_validate(token).model_dump() == {
        "id": token.id,
        "label": "ci",
    }


def test_integers_beyond_the_column_type_are_refused_at_the_edge() -> None:
    """A number the database cannot store is a validation error, not a driver overflow."""
    with pytest.raises(ValidationError):
        Derived.Create.model_validate({"name": "A", "secret_name": "s", "age": 2**31})
    with pytest.raises(ValidationError):
        Derived.Update.model_validate({"age": -(2**31) - 1})
    assert Derived.Create.model_validate(
        {"name": "A", "secret_name": "s", "age": 2**31 - 1}
    )
