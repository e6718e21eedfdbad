from typing import Any

from fastapi import FastAPI, HTTPException

from sqlmodel_production import AsyncRepository, Database, InvalidQuery, Repository
from sqlmodel_production.api import AsyncSessionDep, SessionDep
from sqlmodel_production.models import derive_schemas

from .tutorial001 import Author

authors = Repository(
    Author,
    public=derive_schemas(Author, write_only={"notes"}).Public,
    filters={"born": ("ge",)},
    order_by=["born", "name"],
)
async_authors = AsyncRepository(authors)


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)

    @app.get("/eldest")
    async def eldest(
        session: AsyncSessionDep, born_from: int = 0, cursor: str | None = None
    ) -> dict[str, Any]:
        try:
            page = await async_authors.list(
                session,
                filters={"born__ge": born_from},
                order_by="born,name",
                limit=2,
                cursor=cursor,
            )
        except InvalidQuery as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"authors": page.rows, "next": page.next_cursor}

    @app.post("/authors/{author_id}/rename")
    def rename(author_id: int, name: str, session: SessionDep) -> dict[str, Any]:
        row = authors.update(session, author_id, {"name": name})
        if row is None:
            raise HTTPException(status_code=404, detail="Author not found")
        session.commit()
        return row

    return app
