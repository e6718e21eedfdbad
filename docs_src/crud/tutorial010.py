from fastapi import Depends, FastAPI, Header, HTTPException
from sqlmodel import Field, Relationship

from sqlmodel_production import Database, crud_router, install_error_handlers
from sqlmodel_production.models import ForeignKeyField, IntPK, SoftDelete


class Course(IntPK, SoftDelete, table=True):
    __tablename__ = "courses"

    title: str = Field(max_length=100)
    lessons: list["Lesson"] = Relationship()
    enrolments: list["Enrolment"] = Relationship()


class Lesson(IntPK, SoftDelete, table=True):
    __tablename__ = "lessons"

    title: str = Field(max_length=100)
    course_id: int = ForeignKeyField("courses.id")


class Enrolment(IntPK, table=True):
    __tablename__ = "enrolments"

    student: str = Field(max_length=100)
    course_id: int = ForeignKeyField("courses.id")


async def admin_only(x_role: str = Header(default="")) -> None:
    if x_role != "admin":
        raise HTTPException(status_code=403, detail="Admins only")


def create_app(database: Database, *, async_: bool = True) -> FastAPI:
    app = FastAPI(lifespan=database.lifespan)
    admins = [Depends(admin_only)]
    app.include_router(
        crud_router(
            Course,
            prefix="/courses",
            on_delete={"lessons": "cascade", "enrolments": "refuse"},
            deleted_rows=admins,
            async_=async_,
        )
    )
    app.include_router(
        crud_router(Lesson, prefix="/lessons", deleted_rows=admins, async_=async_)
    )
    app.include_router(crud_router(Enrolment, prefix="/enrolments", async_=async_))
    install_error_handlers(app)
    return app
