# Origin: fastapi/full-stack-fastapi-template, backend/app/models.py, backend/app/core/db.py,
# backend/app/api/routes/{users,items,private}.py at 68adb40d37425f6f8668ec7e5a054500d045e43e.
# Licence: MIT. Reduced to the lines the doctor judges; names kept so the finding can be traced.
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select

from .deps import CurrentUser, SessionDep, settings

engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))  # expect: SMP004
router = APIRouter()


class UserBase(SQLModel):
    email: str = Field(unique=True, index=True, max_length=255)
    full_name: str | None = Field(default=None, max_length=255)


class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=128)


class User(UserBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    hashed_password: str  # quiet: the project names no MariaDB or MySQL (SMP015)
    items: list["Item"] = Relationship(back_populates="owner", cascade_delete=True)


class UserPublic(UserBase):
    id: uuid.UUID


class Item(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(min_length=1, max_length=255)
    owner_id: uuid.UUID = Field(  # expect: SMP005
        foreign_key="user.id", nullable=False, ondelete="CASCADE"
    )
    owner: User | None = Relationship(back_populates="items")


class ItemPublic(SQLModel):
    id: uuid.UUID
    title: str


# The login endpoint's answer: handing out the token is its purpose (quiet).
class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


@router.get("/items/", response_model=list[ItemPublic])
def read_items(session: SessionDep, skip: int = 0, limit: int = 100) -> Any:  # expect: SMP012
    return session.exec(select(Item).offset(skip).limit(limit)).all()


@router.get("/users/{user_id}", response_model=UserPublic)
def read_user_by_id(
    user_id: uuid.UUID, session: SessionDep, current_user: CurrentUser
) -> Any:
    # `==` cannot raise on None, and where it holds `user` is the current user (quiet).
    user = session.get(User, user_id)
    if user == current_user:
        return user
    if not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="Not enough privileges")
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return user


@router.post("/private/users/", response_model=UserPublic)
def create_user(user_in: UserCreate, session: SessionDep) -> Any:
    # The copy passes every field UserCreate and User share (quiet).
    user = User(
        email=user_in.email,
        full_name=user_in.full_name,
        hashed_password=hash(user_in.password),
    )
    session.add(user)
    session.commit()  # expect: SMP007
    return user


def init_db(session: Session) -> None:
    # A sync helper: the first read after the commit reloads the row, as refresh() would.
    user = User(email="admin@example.com", hashed_password="x")
    session.add(user)
    session.commit()
    print(user.id)
