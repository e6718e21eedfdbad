"""The repository: pure statement building and thin sync / async executors."""

from ._async_repository import AsyncRepository as AsyncRepository
from ._errors import InvalidQuery as InvalidQuery
from ._filters import FilterSet as FilterSet
from ._ordering import Ordering as Ordering
from ._repository import BulkValidationError as BulkValidationError
from ._repository import Page as Page
from ._repository import Repository as Repository
from ._repository import Row as Row
from ._repository import StaleVersion as StaleVersion

__all__ = [
    "AsyncRepository",
    "BulkValidationError",
    "FilterSet",
    "InvalidQuery",
    "Ordering",
    "Page",
    "Repository",
    "Row",
    "StaleVersion",
]
