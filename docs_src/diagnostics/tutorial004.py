from sqlmodel import Session, select

from docs_src.diagnostics.tutorial001 import DocTeam


def reload_team(session: Session, team: DocTeam) -> DocTeam:
    session.commit()  # end the transaction: a new one sees what others committed
    session.refresh(team)  # one SELECT: every column of this row, fresh
    return team


def reload_teams(session: Session) -> list[DocTeam]:
    session.commit()
    statement = (
        select(DocTeam)
        .order_by(DocTeam.id)
        .execution_options(populate_existing=True)  # overwrite loaded objects
    )
    return list(session.exec(statement).all())
