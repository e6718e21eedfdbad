from sqlalchemy.orm import selectinload
from sqlmodel import Relationship, Session, select

from sqlmodel_production.diagnostics import detect_n_plus_one, record_queries
from sqlmodel_production.models import ForeignKeyField, IntPK, StringField


class Club(IntPK, table=True):
    __tablename__ = "clubs"

    name: str = StringField(max_length=100)
    members: list["Member"] = Relationship(back_populates="team")


class Member(IntPK, table=True):
    __tablename__ = "members"

    name: str = StringField(max_length=100)
    team_id: int | None = ForeignKeyField("clubs.id", default=None)
    team: Club | None = Relationship(back_populates="members")


def list_members(session: Session) -> list[Member]:
    with record_queries() as recording:
        members = session.exec(select(Member).limit(100)).all()
    assert recording.count == 1, recording.report()
    return list(members)


def rosters_n_plus_one(session: Session) -> dict[str, list[str]]:
    with detect_n_plus_one("raise"):
        teams = session.exec(select(Club).order_by(Club.id).limit(100)).all()
        return {team.name: [member.name for member in team.members] for team in teams}  # noqa: SMP013 - the N+1 this page shows


def rosters(session: Session) -> dict[str, list[str]]:
    with detect_n_plus_one("raise"):
        statement = (
            select(Club)
            .options(selectinload(Club.members))
            .order_by(Club.id)
            .limit(100)
        )
        teams = session.exec(statement).all()
        return {team.name: [member.name for member in team.members] for team in teams}
