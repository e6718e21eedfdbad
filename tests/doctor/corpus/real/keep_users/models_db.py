# Origin: keephq/keep, keep/api/models/db/{user,mapping}.py at af93f550b6498089d5e93b6dd426fc2a49498464.
# Licence: MIT. Reduced.
from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSON
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=255)
    password_hash: str = Field(max_length=255)


class MappingRule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, nullable=False)


# keep runs on MySQL too (its helpers import MySQL's DATETIME): the PostgreSQL JSON type of
# this table does not make the project PostgreSQL-only.
class Dashboard(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dashboard_name: str  # expect: SMP015
    dashboard_config: dict = Field(sa_column=Column(JSON))
