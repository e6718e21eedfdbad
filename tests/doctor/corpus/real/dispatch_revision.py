# Origin: Netflix/dispatch, src/dispatch/database/revisions/tenant/versions/
# 2021-08-09_b73416df5744.py and 2022-10-26_4b65941d065a.py
# at dd2837e82a0bf5565b1b4b4b91ea30b7262d4061. Licence: Apache-2.0. Reduced and merged.
from alembic import op
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


# The revision's copy of the model, as it was then (quiet: not the live model).
class Participant(Base):
    __tablename__ = "participant"
    id = Column(Integer, primary_key=True)
    activity = Column(Integer)
    ticket_id = Column(Integer, ForeignKey("ticket.id"))
    ticket = relationship("Ticket", backref="participants")


def upgrade() -> None:
    # Alembic's connection: the session checks nothing out of a pool, and its commits
    # stay inside the migration's transaction (SQLAlchemy 2 joins it): quiet.
    bind = op.get_bind()
    session = Session(bind=bind)
    participants = session.query(Participant).all()
    for participant in participants:
        participant.activity = participant.activity or 0
        session.add(participant)
        session.commit()
