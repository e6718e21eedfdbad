"""`row_security_policies`: the statements of a scoped table's policy, and of its removal (pure)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Field, SQLModel

from sqlmodel_production.migrations import RowSecurityPolicies, row_security_policies


class RlsDoc(SQLModel, table=True):
    __tablename__ = "rls_doc"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    team: uuid.UUID
    region: str = Field(max_length=8)


def test_one_column() -> None:
    found = row_security_policies(RlsDoc, {"org_id": "app.org_id"})
    condition = (
        "CASE current_setting('app.org_id', true) WHEN '*' THEN true "
        "ELSE org_id = ANY (nullif(current_setting('app.org_id', true), '')::INTEGER[]) END"
    )
    assert found == RowSecurityPolicies(
        upgrade=(
            "ALTER TABLE rls_doc ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE rls_doc FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY rls_doc_scope ON rls_doc USING ({condition}) "
            f"WITH CHECK ({condition})",
        ),
        downgrade=(
            "DROP POLICY IF EXISTS rls_doc_scope ON rls_doc",
            "ALTER TABLE rls_doc NO FORCE ROW LEVEL SECURITY",
            "ALTER TABLE rls_doc DISABLE ROW LEVEL SECURITY",
        ),
    )


def test_several_columns_each_cast_to_its_type() -> None:
    found = row_security_policies(
        RlsDoc.__table__,  # type: ignore[attr-defined]
        {"team": "app.team", "region": "app.region"},
        name="doc rows",
    )
    policy = found.upgrade[2]
    assert policy.startswith('CREATE POLICY "doc rows" ON rls_doc USING (CASE ')
    assert (
        "team = ANY (nullif(current_setting('app.team', true), '')::UUID[]) END AND "
        in policy
    )
    assert (
        "region = ANY (nullif(current_setting('app.region', true), '')::VARCHAR(8)[])"
        in policy
    )
    assert found.downgrade[0] == 'DROP POLICY IF EXISTS "doc rows" ON rls_doc'


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "needs {column: setting}"),
        ({"owner_id": "app.owner_id"}, "rls_doc has no column 'owner_id'"),
        ({"org_id": "org_id"}, "'org_id' is not a custom setting name"),
        ({"org_id": "app.org'; DROP TABLE x; --"}, "is not a custom setting name"),
    ],
)
def test_refuses(settings: dict[str, str], message: str) -> None:
    with pytest.raises(
        ValueError, match=message.replace("{", r"\{").replace("}", r"\}")
    ):
        row_security_policies(RlsDoc, settings)
