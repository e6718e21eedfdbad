from sqlmodel import Session, select

from docs_src.diagnostics.tutorial001 import Club


def reload_team(session: Session, team: Club) -> Club:
    session.commit()  # end the transaction: a new one sees what others committed
    session.refresh(team)  # one SELECT: every column of this row, fresh
    return team


def reload_teams(session: Session) -> list[Club]:
    session.commit()
    statement = (
        select(Club)
        .order_by(Club.id)
        .execution_options(populate_existing=True)  # overwrite loaded objects
    )
    return list(session.exec(statement).all())
