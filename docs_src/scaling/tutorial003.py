from fastapi import FastAPI, HTTPException
from sqlmodel import SQLModel

from sqlmodel_production import (
    Database,
    ReadYourWritesMiddleware,
    SessionDep,
    install_error_handlers,
)

from .tutorial001 import Note


class NotePublic(SQLModel):
    id: int
    text: str


def create_app(database: Database | None = None) -> FastAPI:
    database = database or Database()
    app = FastAPI(lifespan=database.lifespan)

    @app.post("/drafts")
    def create_draft(session: SessionDep, text: str) -> NotePublic:
        note = Note(text=text)
        session.add(note)
        session.commit()  # marks the client: nothing else to call
        return NotePublic.model_validate(note)

    @app.get("/drafts/{note_id}")
    def read_draft(note_id: int) -> NotePublic:
        # A replica, unless this client wrote in the last 6 s: then the primary.
        with database.read_only_session() as session:
            note = session.get(Note, note_id)
        if note is None:
            raise HTTPException(status_code=404, detail="Note not found")
        return NotePublic.model_validate(note)

    app.add_middleware(ReadYourWritesMiddleware, window=6)
    install_error_handlers(app)
    return app
