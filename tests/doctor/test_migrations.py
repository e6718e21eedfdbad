"""SMP005 and the indexes a project's migrations make: Alembic revisions and SQL files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlmodel_production.doctor import Config, check
from sqlmodel_production.doctor._migrations import read_migrations
from sqlmodel_production.doctor._runtime import Runtime, import_app

from .test_runtime import DECLARATIVE, write_module

REVISION = """\
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table(
        "team_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id")),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), index=True),
        sa.UniqueConstraint("org_id", "team_id"),
        sa.Index("ix_team_member_role", "role_id", "team_id"),
    )
    op.create_index(op.f("ix_hero_team_id"), "hero", ["team_id"], unique=False)
    op.create_index(index_name="ix_hero_pet", table_name="hero", columns=["pet_id"])
    op.create_index("ix_hero_mission", "hero", ["mission_id"])
    op.drop_index("ix_hero_mission", table_name="hero")
    op.create_index("ix_again", "hero", ["boss_id"])
    op.drop_index("ix_again", table_name="hero")
    op.create_index("ix_again", "hero", ["boss_id"])
    with op.batch_alter_table("pet") as batch_op:
        batch_op.create_index("ix_pet_owner", ["owner_id"])
        batch_op.create_unique_constraint("uq_pet_tag", ["tag_id", "owner_id"])
    op.execute(sa.text('CREATE INDEX IF NOT EXISTS ix_v ON public."Vector" (knowledge_id)'))
    op.create_primary_key("pk_grant", "grant", ["client_id", "scope_id"])
    # hypothesis/h `24395ca` (BSD-2-Clause): Alembic indexes a column it adds with index=True.
    op.add_column("annotation", sa.Column("document_id", sa.Integer, index=True))
    with op.batch_alter_table("pet") as batch_op:
        batch_op.add_column(sa.Column("vet_id", sa.Integer(), unique=True))
    op.add_column("annotation", sa.Column("group_id", sa.Integer))


def downgrade():
    op.create_index("ix_only_down", "hero", ["down_id"])
    op.drop_index(op.f("ix_hero_team_id"), table_name="hero")
"""

SQL = """\
-- CREATE INDEX commented ON hero (commented_id);
/* CREATE INDEX block ON hero (block_id); */
CREATE TABLE IF NOT EXISTS brains_users (
  brain_id uuid REFERENCES brains(id),
  user_id uuid REFERENCES users(id),
  email text UNIQUE,
  rights varchar(255) DEFAULT 'Viewer',
  CONSTRAINT check_rights CHECK (rights IN ('Viewer', 'Owner')),
  FOREIGN KEY (user_id) REFERENCES users(id),
  PRIMARY KEY (brain_id, user_id)
);
CREATE TABLE `orders` (
  `id` int NOT NULL,
  `customer_id` int NOT NULL,
  KEY `idx_customer` (`customer_id`),
  UNIQUE KEY `uq_code` (`code`, `id`)
);
ALTER TABLE ONLY public.knowledge ADD CONSTRAINT knowledge_pkey PRIMARY KEY (id);
ALTER TABLE notes ADD INDEX idx_author (author_id);
create index knowledge_parent_id_idx on knowledge using btree (parent_id);
CREATE UNIQUE INDEX CONCURRENTLY vectors_uq ON ONLY vectors (knowledge_id, id);
CREATE INDEX ix_temp ON hero (temp_id);
DROP INDEX IF EXISTS public.ix_temp;
"""


def leads(*pairs: str) -> set[tuple[str, str]]:
    return {tuple(pair.split(".")) for pair in pairs}  # type: ignore[misc]


def test_an_alembic_revision_upgrades_to_these_indexes() -> None:
    found = read_migrations([("alembic/versions/0001.py", REVISION)])
    assert found.indexed == leads(
        "team_member.id",
        "team_member.user_id",
        "team_member.org_id",
        "team_member.role_id",
        "hero.team_id",
        "hero.pet_id",
        "hero.boss_id",
        "pet.owner_id",
        "pet.tag_id",
        "vector.knowledge_id",
        "grant.client_id",
        "annotation.document_id",
        "pet.vet_id",
    )
    # Made and dropped again: the project's decision. `downgrade()` is never read.
    assert found.dropped == leads("hero.mission_id")
    assert found.files == 1
    assert not found.decides("team_member", "team_id")  # second in its unique key
    assert found.decides("HERO", '"team_id"')


def test_sql_files_are_read_as_sql() -> None:
    found = read_migrations([("supabase/migrations/0001_init.sql", SQL)])
    assert found.indexed == leads(
        "brains_users.brain_id",
        "brains_users.email",
        "orders.customer_id",
        "orders.code",
        "knowledge.id",
        "notes.author_id",
        "knowledge.parent_id",
        "vectors.knowledge_id",
    )
    assert found.dropped == leads("hero.temp_id")
    assert not found.decides("brains_users", "user_id")


def test_files_that_are_not_revisions_add_nothing() -> None:
    found = read_migrations(
        [
            ("migrations/models_snapshot.py", "class Hero:\n    team_id = 1\n"),
            ("alembic/versions/broken.py", "def upgrade(:\n"),
        ]
    )
    assert found.indexed == found.dropped == frozenset()
    assert found.files == 0


MODELS = """\
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    mission_id: int | None = Field(default=None, foreign_key="mission.id")
    pet_id: int | None = Field(default=None, foreign_key="pet.id")
    squad_id: int | None = Field(default=None, foreign_key="squad.id")


class Vector(SQLModel, table=True):
    __tablename__ = "vectors"
    id: int | None = Field(default=None, primary_key=True)
    knowledge_id: int | None = Field(default=None, foreign_key="knowledge.id")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose models live in `app/` and its migrations beside it, unchecked."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS)
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_heroes.py").write_text(REVISION)
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "schema.sql").write_text(SQL)
    return tmp_path


def smp005(paths: list[Path], root: Path | None) -> list[tuple[str, int]]:
    report = check(paths, Config(select=frozenset({"SMP005"}), root=root))
    return [(Path(f.path).name, f.line) for f in report.findings]


def test_the_rule_counts_the_indexes_the_migrations_make(project: Path) -> None:
    # team_id and pet_id are indexed by the revision, mission_id's index was dropped on
    # purpose, vectors.knowledge_id is indexed by the SQL file: only squad_id is left.
    assert smp005([project / "app"], project) == [("models.py", 9)]


def test_without_the_migrations_every_key_is_reported(project: Path) -> None:
    for migration in [*project.rglob("*.sql"), *project.rglob("0001_*.py")]:
        migration.unlink()
    assert smp005([project / "app"], project) == [
        ("models.py", 6),
        ("models.py", 7),
        ("models.py", 8),
        ("models.py", 9),
        ("models.py", 15),
    ]


def test_without_a_root_the_checked_folder_is_searched(project: Path) -> None:
    # `check([folder], Config())` outside the working folder: the folder itself is read.
    (project / "app" / "versions").mkdir()
    (project / "alembic" / "versions" / "0001_heroes.py").rename(
        project / "app" / "versions" / "0001_heroes.py"
    )
    (project / "db" / "schema.sql").unlink()
    assert smp005([project / "app"], None) == [("models.py", 9), ("models.py", 15)]


def test_the_metadata_check_counts_them_too(tmp_path: Path) -> None:
    # DECLARATIVE's hero.team_id has no index in the models; a revision makes one.
    spec = write_module(tmp_path, DECLARATIVE)
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    roots = (tmp_path.resolve(),)
    runtime = Runtime(roots, modules=import_app(spec, roots))
    config = Config(select=frozenset({"SMP005"}), root=tmp_path)
    assert len(check([tmp_path], config, runtime=runtime).findings) == 1
    (versions / "0002.py").write_text(
        "from alembic import op\n\n\ndef upgrade():\n"
        "    op.create_index('ix_hero_team_id', 'hero', ['team_id'])\n"
    )
    assert check([tmp_path], config, runtime=runtime).findings == []


def test_a_base_class_s_key_is_indexed_by_its_tables_migrations(tmp_path: Path) -> None:
    # gpustack's pattern: the key is declared on a base class, the table inherits it and
    # a migration indexes it there.
    models = """\
from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class MembershipBase(SQLModel):
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("hero.id")))
    parent_id: int = Field(sa_column=Column(Integer, ForeignKey("hero.id")))


class Membership(MembershipBase, table=True):
    __tablename__ = "memberships"
    id: int | None = Field(default=None, primary_key=True)
"""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(models)
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001.py").write_text(
        "from alembic import op\n\n\ndef upgrade():\n"
        "    op.create_index('ix_m', 'memberships', ['member_id', 'parent_id'])\n"
    )
    assert smp005([tmp_path / "app"], tmp_path) == [("models.py", 7)]


def test_the_migrations_size_string_columns() -> None:
    revision = """\
from alembic import op
import sqlalchemy as sa
import sqlmodel


def upgrade():
    op.create_table(
        "clusters",
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("suffix", sa.String(length=12)),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=255)),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString()),
    )
    op.add_column("clusters", sa.Column("region", sa.String(64)))
    with op.batch_alter_table("clusters") as batch_op:
        batch_op.add_column(sa.Column("notes", sa.UnicodeText()))
        batch_op.alter_column("name", type_=sa.String(100))
    op.alter_column("workers", "label", type_=sa.VARCHAR(50))
    op.alter_column("workers", "state", nullable=False)
"""
    found = read_migrations([("alembic/versions/0001.py", revision)])
    assert found.sized == leads(
        "clusters.description",
        "clusters.suffix",
        "clusters.owner",
        "clusters.region",
        "clusters.notes",
        "clusters.name",
        "workers.label",
    )
    assert found.sizes("Clusters", "suffix")
    assert not found.sizes("workers", "state")


def test_smp015_leaves_the_columns_the_migrations_size(tmp_path: Path) -> None:
    models = """\
import pymysql
from sqlmodel import Field, SQLModel


class Cluster(SQLModel, table=True):
    __tablename__ = "clusters"
    id: int | None = Field(default=None, primary_key=True)
    description: str | None = None
    suffix: str
    name: str
"""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(models)
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade():\n"
        "    op.create_table('clusters', sa.Column('description', sa.Text()),"
        " sa.Column('suffix', sa.String(12)), sa.Column('name', sa.String()))\n"
    )
    report = check(
        [tmp_path / "app"], Config(select=frozenset({"SMP015"}), root=tmp_path)
    )
    assert [(Path(f.path).name, f.line) for f in report.findings] == [("models.py", 10)]


def test_smp015_leaves_declarative_columns_the_migrations_size(tmp_path: Path) -> None:
    # rag-web-ui on MySQL: `Column(String)` in the model, `sa.String(255)` in the migration.
    models = """\
import pymysql
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class DocumentUpload(Base):
    __tablename__ = "document_uploads"
    id = Column(Integer, primary_key=True)
    file_name = Column(String, nullable=False)
    status = Column(String)
"""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(models)
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade():\n"
        "    op.create_table('document_uploads', sa.Column('file_name', sa.String(255)))\n"
    )
    report = check(
        [tmp_path / "app"], Config(select=frozenset({"SMP015"}), root=tmp_path)
    )
    assert [(Path(f.path).name, f.line) for f in report.findings] == [("models.py", 12)]


def test_a_revision_s_own_helpers_are_followed() -> None:
    # IBM/mcp-context-forge's revision creates its indexes through a helper of its own.
    revision = """\
from alembic import op


def _create_index_safe(index_name, table_name, columns, unique=False):
    if not _table_exists(table_name):
        return False
    op.create_index(index_name, table_name, columns, unique=unique)
    return True


def _indexes():
    _create_index_safe("ix_tools_gateway", "tools", ["gateway_id"])


def upgrade():
    _create_index_safe("ix_servers_team", table_name="servers", columns=["team_id"])
    _indexes()


def downgrade():
    _create_index_safe("ix_down", "servers", ["down_id"])
"""
    found = read_migrations([("alembic/versions/n8h9.py", revision)])
    assert found.indexed == leads("servers.team_id", "tools.gateway_id")
