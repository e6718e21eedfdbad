from pydantic import BaseModel
from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel


class UserBase(SQLModel):
    email: str = Field(max_length=255)
    hashed_password: str = Field(max_length=255)


class UserPublic(UserBase):  # expect: SMP002
    id: int


class Session(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int
    access_token: str = Field(max_length=255)
    api_key: str = Field(max_length=64)


# The Public view of the `Session` table: every reader gets its stored credentials.
class SessionRead(SQLModel):
    user_id: int
    access_token: str  # expect: SMP002
    api_key: str  # expect: SMP002


class Me(SQLModel):
    password: str  # expect: SMP002


@app.get("/me", response_model=Me)
def read_me():
    return None


class AccountBase(SQLModel):
    email: str = Field(max_length=255)
    api_key: str = Field(max_length=64)


class Account(AccountBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


# Named for a token, but a view of the row: every reader gets the stored key.
class AccountTokenRead(AccountBase):  # expect: SMP002
    id: int


class Author(Base):
    __tablename__ = "author"
    id = Column(Integer, primary_key=True)
    api_key = Column(String(64))


# A view of a SQLAlchemy table's row.
class AuthorOut(BaseModel):
    name: str
    api_key: str  # expect: SMP002
