# Origin: testdrivenio/fastapi-sqlmodel-alembic, project/app/{db,models,main}.py
# at b9f78641513d78ec89954b140efc7ba16a50d1de. Licence: MIT. Reduced and merged.
import os

from fastapi import Depends, FastAPI
from sqlmodel import Field, SQLModel, create_engine, select
from sqlmodel.ext.asyncio.session import AsyncEngine, AsyncSession

from .db import get_session

DATABASE_URL = os.environ.get("DATABASE_URL")
engine = AsyncEngine(create_engine(DATABASE_URL, echo=True, future=True))  # expect: SMP003, SMP004
app = FastAPI()


class SongBase(SQLModel):
    name: str  # quiet: the project names no MariaDB or MySQL (SMP015)
    artist: str  # quiet: the project names no MariaDB or MySQL (SMP015)
    year: int | None = None


class Song(SongBase, table=True):
    id: int = Field(default=None, nullable=False, primary_key=True)


class SongCreate(SongBase):
    pass


@app.get("/songs", response_model=list[Song])  # expect: SMP001
async def get_songs(session: AsyncSession = Depends(get_session)):
    result = await session.execute(select(Song))
    return result.scalars().all()


@app.post("/songs")
async def add_song(song: SongCreate, session: AsyncSession = Depends(get_session)):
    # Every field SongCreate has is copied, and FastAPI validated them (quiet).
    song = Song(name=song.name, artist=song.artist, year=song.year)
    session.add(song)
    await session.commit()
    await session.refresh(song)
    return song
