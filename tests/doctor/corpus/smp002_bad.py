from sqlmodel import Field, SQLModel


class UserBase(SQLModel):
    email: str = Field(max_length=255)
    hashed_password: str = Field(max_length=255)


class UserPublic(UserBase):  # expect: SMP002
    id: int


class SessionRead(SQLModel):
    user_id: int
    access_token: str  # expect: SMP002
    api_key: str  # expect: SMP002


class Me(SQLModel):
    password: str  # expect: SMP002


@app.get("/me", response_model=Me)
def read_me():
    return None
