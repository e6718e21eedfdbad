# Origin: Netflix/dispatch, src/dispatch/auth/models.py, src/dispatch/ticket/service.py,
# src/dispatch/case_cost/scheduled.py, src/dispatch/incident/scheduled.py,
# src/dispatch/task/flows.py, src/dispatch/database/manage.py and
# src/dispatch/individual/models.py at dd2837e82a0bf5565b1b4b4b91ea30b7262d4061.
# Licence: Apache-2.0. Reduced and merged (its revisions: dispatch_revision.py).
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

from .plugins import plugin

Base = declarative_base()


class DispatchBase(BaseModel):
    pass


# The login endpoint's answer (quiet).
class UserLoginResponse(DispatchBase):
    projects: list[str] | None
    token: str | None = None


class Ticket(Base):
    __tablename__ = "ticket"
    id = Column(Integer, primary_key=True)
    weblink = Column(String(255))


class Participant(Base):
    __tablename__ = "participant"
    id = Column(Integer, primary_key=True)
    activity = Column(Integer)
    last_reminder_at = Column(DateTime)
    ticket_id = Column(Integer, ForeignKey("ticket.id"), index=True)
    ticket = relationship("Ticket", backref="participants")  # expect: SMP006


def create(*, db_session: Session, weblink: str) -> Ticket:
    # A sync service returning the object: the caller's first read reloads it (quiet).
    ticket = Ticket(weblink=weblink)
    db_session.add(ticket)
    db_session.commit()
    return ticket


def update_case_costs(db_session: Session, cases: list[Ticket]) -> None:
    for case in cases:
        try:
            case.weblink = case.weblink.strip()
            db_session.add(case)
            db_session.commit()
        except Exception as e:
            # we shouldn't fail to update all cases when one fails (quiet)
            print(e)


def auto_tagger(db_session: Session, incidents: list[Ticket]) -> None:
    for incident in incidents:
        # Each item waits on another service; its commit is a checkpoint (quiet).
        text = plugin.instance.get(incident.weblink, "text/plain")
        incident.weblink = text
        db_session.commit()


def send_task_reminders(db_session: Session, tasks: list[Participant]) -> None:
    for task in tasks:
        task.last_reminder_at = datetime.utcnow()
        db_session.commit()  # expect: SMP010


def init_database(engine) -> None:
    session = sessionmaker(bind=engine)
    db_session = session()  # expect: SMP016
    db_session.query(Ticket).first()

