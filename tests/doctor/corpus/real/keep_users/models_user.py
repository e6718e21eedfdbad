# Origin: keephq/keep, keep/api/models/user.py at af93f550b6498089d5e93b6dd426fc2a49498464.
# Licence: MIT. Reduced.
from pydantic import BaseModel


class User(BaseModel):
    email: str
    name: str
    role: str | None = None
