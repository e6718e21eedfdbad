"""SMP002: a Public (response) schema exposing a field named like a secret."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from sqlmodel_production.doctor._findings import Finding, Severity
from sqlmodel_production.doctor._project import ProjectIndex
from sqlmodel_production.doctor._rule import Rule
from sqlmodel_production.doctor._source import SourceFile
from sqlmodel_production.doctor._syntax import constant, keyword, terminal

# `secret_name`, `password_hash`, `client_secret`; `access_token`, `api_key` (but not
# `token_type` or `token_count`); `hashed_anything`.
_SECRET = re.compile(
    r"(?:^|_)(?:password|passwd|secret)(?:_|$)"
    r"|(?:^|_)(?:token|api_?key|private_?key|credentials?)$"
    r"|^hashed_",
    re.IGNORECASE,
)
_RESPONSE_SUFFIXES = ("Public", "Read", "Out", "Response")


class SecretInPublicSchemaRule(Rule):
    code = "SMP002"
    title = "Public schema exposes a secret field"
    severity = Severity.ERROR
    rationale = (
        "Response schemas are what every client, and every log and cache on the way, gets to see. "
        "A field named `password`, `secret`, `token` or `hashed_*` in one of them is almost always "
        "a leak, often inherited from a shared base class. Keep secrets on the table model and in "
        "the Create schema only."
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
            for name, (owner, statement) in project.fields(model.name).items():
                if not _SECRET.search(name) or _excluded(file, statement.value):
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
