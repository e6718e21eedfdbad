"""SMP002: a Public (response) schema exposing a field named like a secret."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import (
    annotation_names,
    constant,
    keyword,
    terminal,
)

# Secrets a client never needs back: `password`, `password_hash`, `hashed_anything`.
_STORED = re.compile(r"(?:^|_)(?:password|passwd)(?:_|$)|^hashed_", re.IGNORECASE)
# Secrets a client may be handed on purpose (a login answers with its token, a new API key is
# shown once): `secret_name`, `client_secret`, `access_token`, `api_key` (not `token_type`).
_ISSUED = re.compile(
    r"(?:^|_)secret(?:_|$)|(?:^|_)(?:token|api_?key|private_?key|credentials?)$",
    re.IGNORECASE,
)
# A schema named for handing out credentials: `Token`, `LoginResponse`, `ApiKeyCreated`.
_ISSUING = re.compile(
    r"token|log_?in|sign_?(?:in|up)|auth(?!or)|credential|regist|refresh|reset|api_?key|secret",
    re.IGNORECASE,
)
# Facts about a secret (`password_changed_at`, `token_expires`) are not the secret.
_ABOUT = re.compile(
    r"_(?:at|on|date|time|version|count|length|policy|expires?|expiry|changed|required|"
    r"set|status|type)$",
    re.IGNORECASE,
)
# A flag or a date about a secret (`needs_to_change_password: bool`) is not the secret.
_NOT_TEXT = frozenset(
    {"bool", "int", "float", "Decimal", "datetime", "date", "time", "timedelta"}
)
_RESPONSE_SUFFIXES = ("Public", "Read", "Out", "Response")


class SecretInPublicSchemaRule(Rule):
    code = "SMP002"
    title = "Public schema exposes a secret field"
    severity = Severity.ERROR
    rationale = (
        "Response schemas are what every client, and every log and cache on the way, gets to see. "
        "A password or a password hash in one of them is always a leak, often inherited from a "
        "shared base class; keep it on the table model and in the Create schema only. A token, an "
        "API key or a secret is a leak in a view of a row (`UserPublic`), but it is the point of "
        "a schema that hands credentials out (`Token`, `LoginResponse`, `ApiKeyCreated`): "
        "those are not flagged, nor are flags and dates about a secret "
        "(`needs_to_change_password: bool`)."
    )
    bad = """\
class UserBase(SQLModel):
    email: str = Field(max_length=255)
    hashed_password: str = Field(max_length=255)


class UserPublic(UserBase):
    id: int
"""
    good = """\
class UserBase(SQLModel):
    email: str = Field(max_length=255)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str = Field(max_length=255)


class UserPublic(UserBase):
    id: int
"""

    def check(self, file: SourceFile, project: ProjectIndex) -> Iterator[Finding]:
        for model in project.models_in(file):
            if model.table:
                continue
            if not (
                model.name.endswith(_RESPONSE_SUFFIXES)
                or model.name in project.response_models
            ):
                continue
            issuing = _issues_credentials(model.name, project)
            for name, (owner, statement) in project.fields(model.name).items():
                if not _leaks(name, statement, issuing) or _excluded(
                    file, statement.value
                ):
                    continue
                inherited = owner is not model
                where = f" (inherited from `{owner.name}`)" if inherited else ""
                yield self.finding(
                    file,
                    model.node if inherited else statement,
                    f"`{model.name}` exposes `{name}`{where}: a response schema must not carry secrets.",
                    f"Remove `{name}` from `{model.name}`"
                    + (
                        f" by moving it out of `{owner.name}` onto the table model."
                        if inherited
                        else "."
                    )
                    + " If it must stay, mark it `Field(exclude=True)`.",
                )


def _excluded(file: SourceFile, value: ast.expr | None) -> bool:
    return (
        isinstance(value, ast.Call)
        and terminal(file.resolve(value.func)) == "Field"
        and constant(keyword(value, "exclude")) is True
    )


def _leaks(name: str, statement: ast.AnnAssign | ast.Assign, issuing: bool) -> bool:
    """A field named like a secret that this schema should not hand out."""
    if _ABOUT.search(name) or not (
        _STORED.search(name) or (_ISSUED.search(name) and not issuing)
    ):
        return False
    annotation = statement.annotation if isinstance(statement, ast.AnnAssign) else None
    kinds = {terminal(n.id) for n in annotation_names(annotation)}
    return not (kinds and kinds <= _NOT_TEXT)


def _issues_credentials(name: str, project: ProjectIndex) -> bool:
    """A schema named for handing out credentials that is not a view of a table's row.

    `Token` or `LoginResponse` answers a login with its token; a `UserPublic` that shares
    `UserBase` with the `User` table sends every reader the row's stored secrets.
    """
    if not _ISSUING.search(name):
        return False
    stem = name
    for suffix in _RESPONSE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    if project.is_table(stem):
        return False
    return not any(
        project.is_mapped(ancestor) for ancestor in [name, *project.ancestors(name)]
    )
