# Origin: fastapi/sqlmodel, docs_src/tutorial/{one/tutorial009,automatic_id_none_refresh/tutorial001,
# many_to_many/tutorial003,fastapi/delete/tutorial001}_py310.py and
# docs_src/advanced/uuid/tutorial002_py310.py at a6469ef61bb903cbf7fd8749c70d8ceb8046c368.
# Licence: MIT. Reduced and merged into one module; the tutorial's own names are kept.
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select

sqlite_file_name = "database.db"
sqlite_url = f"sqlite:///{sqlite_file_name}"

# SQLite: a file needs no pre-ping (quiet); the echo is a real finding outside a tutorial.
engine = create_engine(sqlite_url, echo=True)  # expect: SMP003


class HeroTeamLink(SQLModel, table=True):
    team_id: int | None = Field(default=None, foreign_key="team.id", primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id", primary_key=True)
    is_training: bool = False
    team: "Team" = Relationship(back_populates="hero_links")
    hero: "Hero" = Relationship(back_populates="team_links")


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=100)
    hero_links: list[HeroTeamLink] = Relationship(back_populates="team")


class HeroBase(SQLModel):
    name: str = Field(index=True, max_length=100)
    secret_name: str = Field(max_length=100)


class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_links: list[HeroTeamLink] = Relationship(back_populates="hero")


# A view of the row that sends every client the hero's secret name.
class HeroPublic(HeroBase):  # expect: SMP002
    id: int


def select_heroes() -> None:
    with Session(engine) as session:
        # Printing None raises nothing (quiet).
        hero = session.get(Hero, 9001)
        print("Hero:", hero)


def select_by_uuid(hero_id: int) -> None:
    with Session(engine) as session:
        selected_hero = session.get(Hero, hero_id)  # expect: SMP011
        print("Selected hero:", selected_hero)
        print("Selected hero ID:", selected_hero.id)


def create_heroes() -> None:
    # A sync script reading after the commit: the read reloads the row (quiet).
    hero_1 = Hero(name="Deadpond", secret_name="Dive Wilson")
    with Session(engine) as session:
        session.add(hero_1)
        session.commit()
        print("After committing the session, show ID:", hero_1.id)


def update_heroes() -> None:
    with Session(engine) as session:
        team_z_force = session.exec(select(Team).where(Team.name == "Z-Force")).one()
        for link in team_z_force.hero_links:
            print("Z-Force hero:", link.hero, "is training:", link.is_training)  # expect: SMP013
