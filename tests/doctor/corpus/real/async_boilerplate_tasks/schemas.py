# Origin: joaoflaviosantos/fastapi-async-sqlmodel-boilerplate, backend/src/apps/system/tasks/
# schemas.py at 3bbc66a15be5223d178d17d2bbff2e2506479585. Licence: MIT. Reduced.
# A response schema that shares the table's name is not that table (quiet).
from typing import Optional

from .models import TaskBase


class Task(TaskBase):
    """Full Task schema with all fields including results."""

    id: Optional[int] = None
    traceback: Optional[str] = None
