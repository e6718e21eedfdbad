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
# shown once): `secret_name`, `access_token`, `api_key` (not `token_type`). A `client_secret`
# is by its name the client's own (an OAuth client's, a payment's).
_ISSUED = re.compile(
    r"(?:^|_)secret(?:_|$)|(?:^|_)(?:token|api_?key|private_?key|credentials?)$",
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
    severity = Severity.INFO
    rationale = (
        "Response schemas are what every client, and every log and cache on the way, gets to see. "
        "A password or a password hash in one of them is always a leak, often inherited from a "
        "shared base class; keep it on the table model and in the Create schema only. A token, an "
        "API key or a secret is a leak in a view of a table's row (`UserPublic`, which shares "
        "`UserBase` with the `User` table): every reader of the row gets it. Declared on a schema "
        "of its own (`Token`, `LoginResponse`), it is what that endpoint hands out, and a "
        "`client_secret` is the client's by name: neither is flagged, nor are flags and dates "
        "about a secret (`needs_to_change_password: bool`, `password_changed_at`). Reported as "
        "info: on public projects outside the corpus, most secrets in response schemas were "
        "handed out on purpose (a new API key shown once, a TURN server's short-lived "
        "password, a credential vault shown to its operators) or masked before every "
        "response, which the rule cannot tell apart from a leak."
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
            if model.table or model.declarative:
                continue
            if not (
                model.name.endswith(_RESPONSE_SUFFIXES)
                or model.name in project.response_models
            ):
                continue
            row_view = _views_a_row(model.name, project)
            for name, (owner, statement) in project.fields_of(model).items():
                if not _leaks(name, statement, row_view) or _excluded(
                    file, statement.value
                ):
                    continue
                inherited = owner is not model
                where = f" (inherited from `{owner.name}`)" if inherited else ""
                finding = self.finding(
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
                yield finding


def _excluded(file: SourceFile, value: ast.expr | None) -> bool:
    return (
        isinstance(value, ast.Call)
        and terminal(file.resolve(value.func)) == "Field"
        and constant(keyword(value, "exclude")) is True
    )


def _leaks(name: str, statement: ast.AnnAssign | ast.Assign, row_view: bool) -> bool:
    """A field named like a secret that this schema should not hand out."""
    if _ABOUT.search(name) or name.lower() == "client_secret":
        return False
    if not (_STORED.search(name) or (row_view and _ISSUED.search(name))):
        return False
    annotation = statement.annotation if isinstance(statement, ast.AnnAssign) else None
    kinds = {terminal(n.id) for n in annotation_names(annotation)}
    return not (kinds and kinds <= _NOT_TEXT)


def _views_a_row(name: str, project: ProjectIndex) -> bool:
    """A schema that shows a table's row: `HeroPublic` of the `Hero` table, or a schema
    sharing a base class with a table (`UserPublic(UserBase)` beside `User(UserBase)`)."""
    stem = name
    for suffix in _RESPONSE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    if project.is_table(stem) or stem in project.row_classes:
        return True
    return any(
        project.is_mapped(ancestor) for ancestor in [name, *project.ancestors(name)]
    )
