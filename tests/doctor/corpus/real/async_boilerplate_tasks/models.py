# Origin: joaoflaviosantos/fastapi-async-sqlmodel-boilerplate, backend/src/apps/system/tasks/
# models.py at 3bbc66a15be5223d178d17d2bbff2e2506479585. Licence: MIT. Reduced.
from typing import Optional

from sqlmodel import Field, SQLModel


class TaskBase(SQLModel):
    name: Optional[str] = Field(default=None, max_length=155)


class Task(TaskBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    traceback: Optional[str] = Field(nullable=True)  # quiet: the project names no MariaDB or MySQL (SMP015)
