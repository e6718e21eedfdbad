"""The repository: pure statement building and thin sync / async executors."""

from sqlmodel_production._exceptions import BulkValidationError as BulkValidationError
from sqlmodel_production._exceptions import InvalidQuery as InvalidQuery
from sqlmodel_production._exceptions import StaleVersion as StaleVersion

from ._async_repository import AsyncRepository as AsyncRepository
from ._children import ChildAction as ChildAction
from ._filters import FilterSet as FilterSet
from ._ordering import Ordering as Ordering
from ._repository import DeletedRows as DeletedRows
from ._repository import Page as Page
from ._repository import Repository as Repository
from ._repository import Row as Row

__all__ = [
    "AsyncRepository",
    "BulkValidationError",
    "ChildAction",
    "DeletedRows",
    "FilterSet",
    "InvalidQuery",
    "Ordering",
    "Page",
    "Repository",
    "Row",
    "StaleVersion",
]
