from datetime import datetime

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


class LoginResponse(SQLModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"


class AccountPublic(SQLModel):
    id: int
    needs_to_change_password: bool
    password_changed_at: datetime | None = None


# A schema of its own that hands a new key out once, and a payment's client secret.
class ApiKeyCreated(SQLModel):
    id: int
    api_key: str


class CheckoutPublic(SQLModel):
    id: int
    client_secret: str
