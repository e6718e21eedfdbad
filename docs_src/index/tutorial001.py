from fastapi import FastAPI
from sqlmodel import Field

from sqlmodel_production import Database, IntPK, crud_router, install_error_handlers


class Album(IntPK, table=True):
    title: str = Field(max_length=200, index=True)
    artist: str = Field(max_length=200, index=True)
    year: int | None = Field(default=None, index=True)


def create_app(database: Database) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    app.include_router(
        crud_router(
            Album,
            prefix="/albums",
            filters={"artist": ["eq"], "year": ["ge", "le"]},
            order_by=["year", "title"],
        )
    )
    install_error_handlers(app)
    return app


app = create_app(Database())  # DATABASE_URL from the environment or .env
