"""A few rows so the demo has something to show."""

from sqlmodel import Session, SQLModel, select

from sqlmodel_production import Database
from sqlmodel_production.demo.models import Hero, HeroMissionLink, Mission, Team


def create_tables(database: Database) -> None:
    """Create the reference service's tables if they do not exist."""
    models: list[type[SQLModel]] = [Team, Hero, Mission, HeroMissionLink]
    tables = [model.__table__ for model in models]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(database.engine, tables=tables)


def add_sample_data(session: Session) -> bool:
    """Insert a few heroes, two teams and a mission; False if there is data already."""
    if session.exec(select(Team.id).limit(1)).first() is not None:
        return False
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    heroes = [
        Hero(name="Deadpond", secret_name="Dive Wilson", team=z_force),
        Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team=preventers),
        Hero(name="Spider-Boy", secret_name="Pedro Parqueador"),
    ]
    rescue = Mission(name="Rescue the cat")
    session.add_all([preventers, z_force, *heroes, rescue])
    session.flush()  # the ids the links need
    leader, _, member = (hero.id for hero in heroes)
    assert leader is not None and member is not None and rescue.id is not None
    session.add_all(
        [
            HeroMissionLink(hero_id=leader, mission_id=rescue.id, role="leader"),
            HeroMissionLink(hero_id=member, mission_id=rescue.id),
        ]
    )
    session.commit()
    return True
