from sqlmodel import Field, SQLModel


class UserBase(SQLModel):
    email: str = Field(max_length=255)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str = Field(max_length=255)


class UserCreate(UserBase):
    password: str


class UserPublic(UserBase):
    id: int
    token_count: int
    token_type: str
    secretary: str
    legacy_password: str = Field(default="", exclude=True)
