# Origin: keephq/keep, keep/api/routes/{auth/users,mapping}.py at af93f550b6498089d5e93b6dd426fc2a49498464.
# Licence: MIT. Reduced.
from fastapi import APIRouter

from .models_db import MappingRule
from .models_user import User

router = APIRouter()


# The pydantic `User` of models_user.py, not the table of the same name.
@router.get("/users")
def get_users() -> list[User]:
    return []


@router.post("/mapping")
def create_rule(name: str) -> MappingRule:  # expect: SMP001
    return MappingRule(name=name)
