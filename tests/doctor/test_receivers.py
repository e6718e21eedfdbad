"""Rules fire on what a name is, not on what it is called: receivers resolved through
imports, annotations, `select(Model)` and return types; loader strategies and options on
the way; the databases a project names."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlmodel_production.doctor import Config, Finding, check

MODELS = """\
from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    team: Team | None = Relationship(back_populates="heroes")
"""


def run(tmp_path: Path, files: dict[str, str], *codes: str) -> list[Finding]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    config = Config(select=frozenset(codes)) if codes else Config()
    return check([tmp_path], config).findings


def where(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in findings]


ENDPOINT = """\
from fastapi import FastAPI
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.{module} import Hero

app = FastAPI()


@app.get("/heroes/{{hero_id}}/team")
async def read_team(session: AsyncSession, hero_id: int, hero: Hero):
    return hero.team.name
"""

SCHEMAS = """\
from pydantic import BaseModel


class Hero(BaseModel):
    name: str
    team: str
"""


def test_a_pydantic_class_beside_a_table_of_the_same_name_is_resolved_by_import(
    tmp_path: Path,
) -> None:
    files = {"app/models.py": MODELS, "app/schemas.py": SCHEMAS}
    schema = run(
        tmp_path / "a",
        {**files, "app/api.py": ENDPOINT.format(module="schemas")},
        "SMP014",
    )
    assert schema == []
    table = run(
        tmp_path / "b",
        {**files, "app/api.py": ENDPOINT.format(module="models")},
        "SMP014",
    )
    assert where(table) == [("api.py", 12, "SMP014")]


def test_async_advice_works_on_sqlmodel_tables(tmp_path: Path) -> None:
    files = {"app/models.py": MODELS, "app/api.py": ENDPOINT.format(module="models")}
    [finding] = run(tmp_path, files, "SMP014")
    assert finding.fix == (
        "Load it with the query (`.options(selectinload(Hero.team))`), or explicitly: "
        '`await session.refresh(hero, ["team"])`.'
    )
    # With SQLAlchemy's AsyncAttrs mixin, awaitable_attrs exists and is offered too.
    mixed = MODELS.replace(
        "class Hero(SQLModel, table=True):",
        "class Hero(AsyncAttrs, SQLModel, table=True):",
    ).replace(
        "from sqlmodel import",
        "from sqlalchemy.ext.asyncio import AsyncAttrs\nfrom sqlmodel import",
    )
    files["app/models.py"] = mixed
    [finding] = run(tmp_path / "mixed", files, "SMP014")
    assert finding.fix.endswith(", or `await hero.awaitable_attrs.team`.")


def test_loader_strategy_and_options_on_the_path(tmp_path: Path) -> None:
    eager_team = MODELS.replace(
        'team: Team | None = Relationship(back_populates="heroes")',
        'team: Team | None = Relationship(back_populates="heroes", '
        'sa_relationship_kwargs={"lazy": "selectin"})',
    )
    loops = """\
    from sqlalchemy.orm import selectinload
    from sqlmodel import Session, select

    from app.models import Hero, Team


    def hero_teams(session: Session) -> list[str]:
        # Hero.team is lazy="selectin": loaded with the heroes.
        return [hero.team.name for hero in session.exec(select(Hero)).all()]


    def teams_with_heroes(session: Session) -> list[Team]:
        return session.exec(select(Team).options(selectinload(Team.heroes))).all()


    def team_sizes(session: Session) -> list[int]:
        # The repository loads Team.heroes with the teams.
        return [len(team.heroes) for team in teams_with_heroes(session)]


    def plain_teams(session: Session) -> list[Team]:
        return session.exec(select(Team)).all()


    def team_sizes_slow(session: Session) -> list[int]:
        return [len(team.heroes) for team in plain_teams(session)]
    """
    findings = run(
        tmp_path, {"app/models.py": eager_team, "app/loops.py": loops}, "SMP013"
    )
    assert where(findings) == [("loops.py", 26, "SMP013")]
    assert "selectinload(Team.heroes)" in findings[0].fix


def test_names_that_are_not_mapped_objects_are_left_alone(tmp_path: Path) -> None:
    code = """\
    import sqlalchemy as sa
    from pydantic import BaseModel
    from sqlmodel import Field, Relationship, SQLModel, select
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.models import Hero


    class Ticket(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        case: "Case | None" = Relationship()


    class HeroCard(BaseModel):
        name: str
        team: str


    def card_teams(cards: list[HeroCard]) -> list[str]:
        return [card.team for card in cards]


    async def ordered(session: AsyncSession, rows):
        for row in rows:
            row.team  # unknown: not known to be a mapped object
        return await session.exec(select(Ticket).order_by(sa.case((Ticket.id > 1, 1), else_=0)))
    """
    assert (
        run(
            tmp_path, {"app/models.py": MODELS, "app/code.py": code}, "SMP013", "SMP014"
        )
        == []
    )


def test_sqlalchemy_declarative_relationships(tmp_path: Path) -> None:
    models = """\
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class Author(Base):
        __tablename__ = "author"
        id: Mapped[int] = mapped_column(primary_key=True)
        books: Mapped[list["Book"]] = relationship(back_populates="author")
        awards: Mapped[list["Award"]] = relationship(lazy="selectin")


    class Book(Base):
        __tablename__ = "book"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("author.id"), index=True)
        author: Mapped[Author] = relationship(back_populates="books")
    """
    code = """\
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.models import Author


    def counts(session: Session) -> list[tuple[int, int]]:
        authors = session.scalars(select(Author)).all()
        return [(len(a.books), len(a.awards)) for a in authors]
    """
    findings = run(tmp_path, {"app/models.py": models, "app/code.py": code})
    assert where(findings) == [("code.py", 9, "SMP013")]


FILLED = """\
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Field, SQLModel


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=100)


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column_kwargs={"server_default": func.now()})
"""

KEEPS = """\
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.models import Event, Note

app = FastAPI()
SessionLocal = sessionmaker(class_=Session, expire_on_commit=False)


@app.post("/notes/")
def create_note(session: Session, text: str) -> Note:
    note = Note(text=text)
    session.add(note)
    session.commit()
    return note


@app.post("/events/")
def create_event(session: Session) -> Event:
    # A new row: SQLAlchemy 2.0 fetches its server defaults with RETURNING on INSERT.
    event = Event()
    session.add(event)
    session.commit()
    return event


@app.put("/events/{event_id}")
def touch_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    session.add(event)
    session.commit()
    return event
"""


def test_commit_without_refresh_knows_which_classes_the_database_fills(
    tmp_path: Path,
) -> None:
    findings = run(tmp_path, {"app/models.py": FILLED, "app/api.py": KEEPS}, "SMP007")
    assert where(findings) == [("api.py", 32, "SMP007")]
    # On MySQL (no RETURNING) the new row's server defaults are not fetched either.
    mysql = {
        "app/models.py": FILLED,
        "app/api.py": KEEPS,
        "app/db.py": 'URL = "mysql://db/app"\n',
    }
    assert where(run(tmp_path / "mysql", mysql, "SMP007")) == [
        ("api.py", 24, "SMP007"),
        ("api.py", 32, "SMP007"),
    ]


def test_the_package_s_sessions_keep_objects_on_commit(tmp_path: Path) -> None:
    """A project on `sqlmodel_production`'s `SessionDep` has expire_on_commit=False sessions."""
    ours = KEEPS.replace(
        "from sqlalchemy.orm import sessionmaker\nfrom sqlmodel import Session\n",
        "from sqlmodel import Session\nfrom sqlmodel_production import SessionDep\n",
    ).replace(
        "SessionLocal = sessionmaker(class_=Session, expire_on_commit=False)\n", ""
    )
    assert "expire_on_commit" not in ours
    findings = run(tmp_path, {"app/models.py": FILLED, "app/api.py": ours}, "SMP007")
    assert [code for *_, code in where(findings)] == [
        "SMP007"
    ]  # only the server-filled one
    plain = ours.replace("from sqlmodel_production import SessionDep\n", "")
    findings = run(
        tmp_path / "plain", {"app/models.py": FILLED, "app/api.py": plain}, "SMP007"
    )
    assert len(findings) == 3


UNBOUNDED = """\
from sqlmodel import Field, SQLModel


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    boss_id: int | None = Field(default=None, foreign_key="team.id")
"""


def test_rules_know_the_projects_databases(tmp_path: Path) -> None:
    def codes(url: str) -> list[str]:
        folder = tmp_path / url.partition(":")[0].replace("+", "_")
        files = {"models.py": UNBOUNDED, "db.py": f"URL = {url!r}\n"}
        return sorted(f.code for f in run(folder, files, "SMP005", "SMP015"))

    # Unbounded VARCHAR is a MariaDB problem; unindexed foreign keys are not one there.
    assert codes("postgresql+asyncpg://app@db/app") == ["SMP005"]
    assert codes("mysql+pymysql://app@db/app") == ["SMP015"]
    assert codes("sqlite:///app.db") == ["SMP005"]
    assert codes("sqlite:///app.db") == codes("no URL")


def test_assigning_an_attribute_does_not_rebind_the_name(tmp_path: Path) -> None:
    code = """\
    from sqlmodel import Session, select

    from app.models import Hero


    def rename(session: Session) -> None:
        for hero in session.exec(select(Hero)).all():
            hero.name = hero.team.name
    """
    findings = run(tmp_path, {"app/models.py": MODELS, "app/code.py": code}, "SMP013")
    assert where(findings) == [("code.py", 8, "SMP013")]


def test_data_migrations_are_not_production_paths(tmp_path: Path) -> None:
    migration = """\
    from alembic import op
    from sqlalchemy import Column, ForeignKey, Integer
    from sqlalchemy.orm import Session, declarative_base, relationship

    Base = declarative_base()


    class Hero(Base):
        __tablename__ = "hero"
        id = Column(Integer, primary_key=True)
        team_id = Column(Integer, ForeignKey("team.id"))
        team = relationship("Team")


    def upgrade():
        session = Session(bind=op.get_bind())
        for hero in session.query(Hero).all():
            hero.team
    """
    files = {"app/models.py": MODELS, "migrations/versions/001_data.py": migration}
    assert run(tmp_path, files, "SMP005", "SMP013") == []


def test_model_snapshots_in_a_migrations_folder_are_not_the_models(
    tmp_path: Path,
) -> None:
    snapshot = """\
    from sqlalchemy import Column, ForeignKey, Integer
    from sqlalchemy.orm import declarative_base

    Base = declarative_base()


    class OldHero(Base):
        __tablename__ = "hero"
        id = Column(Integer, primary_key=True)
        team_id = Column(Integer, ForeignKey("team.id"))
    """
    files = {"api/migrations/core/old_models.py": snapshot}
    assert run(tmp_path / "a", files, "SMP005") == []
    files = {"api/models/old_models.py": snapshot}
    assert where(run(tmp_path / "b", files, "SMP005")) == [
        ("old_models.py", 10, "SMP005")
    ]


def test_a_project_class_named_like_pydantics_base_model(tmp_path: Path) -> None:
    models = """\
    from sqlmodel import Field, SQLModel


    class BaseModel(SQLModel):
        id: int | None = Field(default=None, primary_key=True)


    class User(BaseModel, table=True):
        email: str = Field(max_length=100)
        password: str = Field(max_length=100)
    """
    schemas = """\
    from pydantic import BaseModel


    class SignInResponse(BaseModel):
        access_token: str
    """
    assert (
        run(tmp_path, {"app/models.py": models, "app/schemas.py": schemas}, "SMP002")
        == []
    )


def test_secrets_in_a_row_s_view_are_infos(tmp_path: Path) -> None:
    # On public projects most secrets in response schemas were handed out on purpose
    # (dograh's TURN password, Empire's credential vault) or masked first (mcp-context-forge).
    models = """\
    from sqlmodel import Field, SQLModel


    class UserBase(SQLModel):
        email: str = Field(max_length=100)


    class User(UserBase, table=True):
        id: int | None = Field(default=None, primary_key=True)
        hashed_password: str = Field(max_length=100)
        api_key: str = Field(max_length=100)


    class UserPublic(UserBase):
        id: int
        hashed_password: str
        api_key: str
    """
    findings = run(tmp_path, {"app/models.py": models}, "SMP002")
    assert [(f.code, f.severity.value, f.message.split("`")[3]) for f in findings] == [
        ("SMP002", "info", "hashed_password"),
        ("SMP002", "info", "api_key"),
    ]


def test_sessions_and_engines_that_hold_no_pool_of_their_own(tmp_path: Path) -> None:
    code = """\
    from sqlalchemy import Connection, create_engine, event
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.orm import Session


    def recount(session: Session) -> None:
        local = Session(bind=session.connection())
        try:
            local.commit()
        finally:
            local.close()


    def after_update(mapper, connection: Connection, target) -> None:
        session = Session(bind=connection)
        session.commit()


    async def create_database(url: str) -> None:
        async with create_async_engine(url, isolation_level="AUTOCOMMIT").begin() as conn:
            await conn.exec_driver_sql("CREATE DATABASE app")
    """
    assert run(tmp_path, {"app/code.py": code}, "SMP004", "SMP016") == []


def test_a_langgraph_postgres_checkpointer_names_postgresql(tmp_path: Path) -> None:
    files = {
        "models.py": UNBOUNDED,
        "graph.py": "from psycopg_pool import AsyncConnectionPool\n",
    }
    assert run(tmp_path, files, "SMP015") == []


def test_a_table_the_project_calls_session_is_no_database_session(
    tmp_path: Path,
) -> None:
    # A chat application's `Session` table, imported inside the function that makes one.
    models = """\
    from sqlmodel import Field, SQLModel


    class Session(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(max_length=100)
    """
    code = """\
    from sqlalchemy.orm import Session as DBSession


    def lite_session(db: DBSession, name: str):
        from .datamodel import Session

        session = Session(name=name)
        db.add(session)
        db.commit()
        return session


    def leaky(engine):
        db = DBSession(engine)
        return db.get(int, 1)
    """
    files = {"app/datamodel.py": models, "app/deps.py": code, "app/__init__.py": ""}
    assert where(run(tmp_path, files, "SMP016")) == [("deps.py", 14, "SMP016")]


def test_a_migration_s_copy_of_the_models_is_not_checked_for_backref(
    tmp_path: Path,
) -> None:
    revision = """\
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy import orm
    from sqlalchemy.orm import declarative_base

    Base = declarative_base()


    class TokenOwner(Base):
        __tablename__ = "tokenowner"
        id = sa.Column(sa.Integer(), primary_key=True)
        token_id = sa.Column(sa.Integer(), sa.ForeignKey("token.id"))
        token = orm.relationship("Token", lazy="joined", backref="token_list")


    def upgrade():
        op.add_column("tokenowner", sa.Column("realm_id", sa.Integer()))
    """
    revision = textwrap.dedent(revision)
    live = revision.replace("from alembic import op\n", "").split("\n\n\ndef upgrade")[
        0
    ]
    files = {
        "app/migrations/versions/48ee74b8a7c8_.py": revision,
        "app/models.py": live,
    }
    assert where(run(tmp_path, files, "SMP006")) == [("models.py", 12, "SMP006")]


def test_a_migration_s_commits_in_a_loop_are_not_batches(tmp_path: Path) -> None:
    # bluesky/tiled's data migrations: a session bound to Alembic's connection, seeding roles.
    revision = """\
    from alembic import op
    from sqlalchemy.orm import Session

    ROLES = ["admin", "user"]


    def upgrade():
        session = Session(bind=op.get_bind())
        for name in ROLES:
            session.add(Role(name=name))
            session.commit()
    """
    revision = textwrap.dedent(revision)
    service = revision.replace("from alembic import op\n", "").replace(
        "Session(bind=op.get_bind())", "Session(engine)"
    )
    files = {"app/migrations/versions/0002_roles.py": revision, "app/seed.py": service}
    assert where(run(tmp_path, files, "SMP010")) == [("seed.py", 10, "SMP010")]


def test_sqlalchemy_s_metadata_on_a_base_is_no_field_to_copy(tmp_path: Path) -> None:
    # nandyalu/trailarr's base class shares one `MetaData`; a copy of every field is whole.
    models = """\
    from sqlalchemy import MetaData
    from sqlmodel import Field, SQLModel

    METADATA = MetaData()


    class AppSQLModel(SQLModel):
        metadata = METADATA


    class ChannelBase(AppSQLModel):
        name: str = Field(max_length=100)
        url: str = Field(max_length=200)
        kind: str = Field(max_length=20)


    class Channel(ChannelBase, table=True):
        id: int | None = Field(default=None, primary_key=True)


    class ChannelCreate(ChannelBase):
        pass
    """
    code = """\
    from fastapi import FastAPI
    from sqlmodel import Session

    from app.models import Channel, ChannelCreate

    app = FastAPI()


    @app.post("/channels/")
    def create_channel(session: Session, data: ChannelCreate):
        channel = Channel(name=data.name, url=data.url, kind=data.kind)
        session.add(channel)
        session.commit()
        return channel.id
    """
    files = {"app/models.py": models, "app/api.py": code, "app/__init__.py": ""}
    assert run(tmp_path, files, "SMP008") == []
    leaky = code.replace(", kind=data.kind", "")
    assert [f.code for f in run(tmp_path, {"app/api.py": leaky}, "SMP008")] == [
        "SMP008"
    ]


def test_a_class_mapped_to_a_view_is_never_written(tmp_path: Path) -> None:
    # gpustack's devices: a view over the workers table, mapped read-only; its base's
    # fields end up in no table that is written.
    models = """\
    from pydantic import BaseModel
    from sqlmodel import Field, SQLModel


    class DeviceInfo(BaseModel):
        vendor: str = ""


    class Device(DeviceInfo, SQLModel, table=True):
        __tablename__ = "devices_view"
        id: str = Field(primary_key=True)
        worker_name: str
        worker_id: int = Field(foreign_key="worker.id")


    class Worker(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
    """
    statements = '''\
    DEVICES_VIEW = """
    CREATE VIEW IF NOT EXISTS devices_view AS
    SELECT worker.id AS worker_id, worker.name AS worker_name FROM worker
    """
    '''
    database = "import pymysql\nimport psycopg\n"
    files = {"app/models.py": models, "app/stmt.py": statements, "app/db.py": database}
    assert where(run(tmp_path, files, "SMP005", "SMP015")) == [
        ("models.py", 18, "SMP015")
    ]


def test_a_negative_offset_on_a_project_that_runs_on_sqlite_alone(
    tmp_path: Path,
) -> None:
    # nandyalu/trailarr: SQLite is all it runs on, where a negative OFFSET reads as 0.
    code = """\
    from fastapi import FastAPI
    from sqlmodel import Session, create_engine, select

    from app.models import Hero

    app = FastAPI()
    engine = create_engine("sqlite:///trailarr.db", pool_pre_ping=True)


    @app.get("/heroes/")
    def read_heroes(offset: int = 0, limit: int = 100):
        with Session(engine) as session:
            return session.exec(select(Hero).offset(offset).limit(limit)).all()
    """
    files = {"app/models.py": MODELS, "app/api.py": code, "app/__init__.py": ""}
    messages = [f.message.split("`")[1] for f in run(tmp_path, files, "SMP012")]
    assert messages == ["limit"]
    # The same code, in a project whose dependencies name a PostgreSQL driver.
    (tmp_path / "pyproject.toml").write_text(
        'dependencies = ["psycopg[binary]>=3.1"]\n'
    )
    messages = [f.message.split("`")[1] for f in run(tmp_path, {}, "SMP012")]
    assert messages == ["offset", "limit"]


def test_no_pre_ping_on_a_project_that_runs_on_sqlite_alone(tmp_path: Path) -> None:
    # Cinnamon/kotaemon `4015bb0`: the engine's URL comes from settings, and SQLite is the
    # only database the project names: no server restarts, no idle timeout closes a file.
    code = """\
    from sqlmodel import create_engine

    from app.settings import DATABASE_URL

    engine = create_engine(DATABASE_URL)
    """
    settings = 'DATABASE_URL = "sqlite:///app.db"\n'
    files = {"app/db.py": code, "app/settings.py": settings, "app/__init__.py": ""}
    assert run(tmp_path, files, "SMP004") == []
    (tmp_path / "requirements.txt").write_text("psycopg2-binary>=2.9\n")
    assert where(run(tmp_path, {}, "SMP004")) == [("db.py", 5, "SMP004")]


PAGING_DAO = """\
from sqlalchemy import text
from sqlmodel import select

from app.models import Hero


def list_heroes(session, limit, offset):
    return session.exec(select(Hero).offset(offset).limit(limit)).all()


class HeroDao:
    def page(self, session, page_size, page_num):
        statement = select(Hero)
        if page_num and page_size:
            statement = statement.offset((int(page_num) - 1) * int(page_size))
        return session.exec(statement.limit(int(page_size))).all()

    def raw(self, session, limit):
        return session.execute(text("SELECT * FROM hero LIMIT :n"), {"n": limit})
"""


def test_a_paging_value_is_reported_where_it_is_seen_reaching_a_query(
    tmp_path: Path,
) -> None:
    # keephq/keep (an import under another name), quetz (an endpoint and a DAO method of
    # one name), bisheng (`int(page_size)`): the value is followed to the statement.
    api = """\
    from fastapi import FastAPI

    from app.dao import HeroDao
    from app.dao import list_heroes as list_heroes_db

    app = FastAPI()
    dao = HeroDao()


    @app.get("/heroes/")
    def list_heroes(session, limit: int = 100, offset: int = 0):
        return list_heroes_db(session, limit, offset)


    @app.get("/pages/")
    def page(session, page_size: int = 10, page_num: int = 1):
        return dao.page(session, page_size, page_num)


    @app.get("/raw/")
    def raw(session, limit: int = 10):
        return dao.raw(session, limit)
    """
    files = {
        "app/models.py": MODELS,
        "app/dao.py": PAGING_DAO,
        "app/api.py": api,
        "app/__init__.py": "",
        "pyproject.toml": 'dependencies = ["psycopg>=3.1"]\n',
    }
    found = [(f.line, f.message.split("`")[1]) for f in run(tmp_path, files, "SMP012")]
    assert found == [(11, "limit"), (11, "offset"), (16, "page_size"), (21, "limit")]


def test_a_paging_value_not_seen_reaching_a_query_is_not_reported(
    tmp_path: Path,
) -> None:
    # mlrun (an offset into a file a library reads), mcp-context-forge and gsuid_core
    # (values put on an object that slices a list in memory), bisheng (a search engine's
    # `size`): no statement of the project gets them.
    api = """\
    from dataclasses import dataclass

    from fastapi import FastAPI
    from objectstore import read_object

    app = FastAPI()


    @dataclass
    class LogQuery:
        limit: int
        offset: int


    class LogBuffer:
        def get(self, query: LogQuery) -> list[str]:
            lines = load_lines()
            return lines[query.offset : query.offset + query.limit]


    @app.get("/files/{path}")
    def read_file(path: str, offset: int = 0, limit: int = 4096):
        return read_object(path, offset=offset, size=limit)


    @app.get("/logs/")
    def logs(limit: int = 100, offset: int = 0):
        query = LogQuery(limit=limit, offset=offset)
        return LogBuffer().get(query)


    @app.get("/search/")
    def search(es, limit: int = 10):
        body = {"size": limit}
        return es.search(index="chunks", body=body)
    """
    files = {"app/models.py": MODELS, "app/api.py": api, "app/__init__.py": ""}
    assert run(tmp_path, files, "SMP012") == []


def test_sqlmodel_s_session_is_not_the_project_s_table_of_that_name(
    tmp_path: Path,
) -> None:
    models = """\
    from sqlmodel import Field, SQLModel


    class Session(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
    """
    code = """\
    from sqlmodel import Session


    def count(engine) -> int:
        session = Session(engine)
        return session.exec("SELECT 1").one()
    """
    files = {"app/chat.py": models, "app/jobs.py": code, "app/__init__.py": ""}
    assert where(run(tmp_path, files, "SMP016")) == [("jobs.py", 5, "SMP016")]


def test_a_mysql_project_named_by_its_url_scheme_or_its_dependencies(
    tmp_path: Path,
) -> None:
    # reworkd/AgentGPT builds its URL from parts (`scheme="mysql+aiomysql"`); InnoDB indexes
    # foreign keys itself.
    models = """\
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Session(Base):
        __tablename__ = "session"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    """
    files = {"app/models.py": models}
    assert [f.code for f in run(tmp_path, files, "SMP005")] == ["SMP005"]
    settings = 'from yarl import URL\n\nURL.build(scheme="mysql+aiomysql", host="db")\n'
    assert run(tmp_path, {"app/settings.py": settings}, "SMP005") == []
    (tmp_path / "app" / "settings.py").unlink()
    (tmp_path / "pyproject.toml").write_text('dependencies = ["aiomysql>=0.2"]\n')
    assert run(tmp_path, {}, "SMP005") == []


def test_another_package_s_schema_is_not_the_table_of_its_name(tmp_path: Path) -> None:
    # microsoft/semanticworkbench: the service returns `User` from its API-model package,
    # a pydantic schema; the table `User` of its own db module is reached as `db.User`.
    tables = """\
    from sqlmodel import Field, SQLModel


    class User(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(max_length=100)
    """
    service = """\
    from fastapi import FastAPI
    from semantic_workbench_api_model.workbench_model import User

    app = FastAPI()


    @app.get("/users/me")
    async def read_me() -> User:
        return User(name="me")
    """
    files = {
        "service/db.py": tables,
        "service/api.py": service,
        "service/__init__.py": "",
    }
    assert run(tmp_path, files, "SMP001") == []
    local = service.replace(
        "semantic_workbench_api_model.workbench_model", "service.db"
    )
    assert [f.code for f in run(tmp_path, {"service/api.py": local}, "SMP001")] == [
        "SMP001"
    ]


def test_a_scoped_session_registry_returns_the_current_session(tmp_path: Path) -> None:
    # fedora-infra/bodhi: `Session = scoped_session(sessionmaker())` in the package, called
    # wherever the request's session is needed; its owner calls `Session.remove()`.
    package = """\
    from sqlalchemy.orm import scoped_session, sessionmaker

    Session = scoped_session(sessionmaker())
    """
    code = """\
    from app import Session


    def publish(message) -> None:
        session = Session()
        session.info.setdefault("messages", []).append(message)
    """
    files = {"app/__init__.py": package, "app/notifications.py": code}
    assert run(tmp_path, files, "SMP016") == []


def test_lazy_false_is_sqlalchemy_s_old_spelling_of_joined(tmp_path: Path) -> None:
    # pypi/warehouse declares its eager relationships `relationship(lazy=False)`.
    models = """\
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "user"
        id: Mapped[int] = mapped_column(primary_key=True)


    class Role(Base):
        __tablename__ = "role"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
        user: Mapped[User] = relationship(lazy=LAZY)
    """
    code = """\
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.models import Role


    def names(session: Session) -> list[int]:
        return [role.user.id for role in session.scalars(select(Role))]
    """
    files = {"app/models.py": models.replace("LAZY", "False"), "app/roles.py": code}
    assert run(tmp_path, files, "SMP013") == []
    files["app/models.py"] = models.replace("LAZY", "True")
    assert [f.code for f in run(tmp_path, files, "SMP013")] == ["SMP013"]


def test_sqlmodel_s_session_beside_a_scoped_registry_of_that_name(
    tmp_path: Path,
) -> None:
    package = """\
    from sqlalchemy.orm import scoped_session, sessionmaker

    Session = scoped_session(sessionmaker())
    """
    code = """\
    from sqlmodel import Session


    def count(engine) -> int:
        session = Session(engine)
        return session.exec("SELECT 1").one()
    """
    files = {"app/__init__.py": package, "app/jobs.py": code}
    assert where(run(tmp_path, files, "SMP016")) == [("jobs.py", 5, "SMP016")]
