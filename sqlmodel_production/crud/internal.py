"""What the package's routes (`api`) use of `crud` beyond its public API.

The statements of related rows and of link tables, built once per router,
the values a row scope can give, which row of a bulk write an error is about,
and the shape of a cursor.
The routes import them from here, never from `crud`'s private modules. Not
public: names here may change in any release.
"""

from sqlmodel_production.crud._bulk_rows import locate_bulk_row as locate_bulk_row
from sqlmodel_production.crud._cache import StatementCache as StatementCache
from sqlmodel_production.crud._cursor import CURSOR_PATTERN as CURSOR_PATTERN
from sqlmodel_production.crud._cursor import MAX_CURSOR_LENGTH as MAX_CURSOR_LENGTH
from sqlmodel_production.crud._links import LinkScope as LinkScope
from sqlmodel_production.crud._links import LinkTable as LinkTable
from sqlmodel_production.crud._links import Side as Side
from sqlmodel_production.crud._related import INCLUDE_LIMIT as INCLUDE_LIMIT
from sqlmodel_production.crud._related import RelatedLoad as RelatedLoad
from sqlmodel_production.crud._related import include_limits as include_limits
from sqlmodel_production.crud._related import related_load as related_load
from sqlmodel_production.crud._scope import ScopeValues as ScopeValues
from sqlmodel_production.crud._scope import scope_condition as scope_condition
from sqlmodel_production.crud._scope import scope_shape as scope_shape
from sqlmodel_production.crud._scope import scope_value as scope_value

__all__ = [
    "CURSOR_PATTERN",
    "INCLUDE_LIMIT",
    "LinkScope",
    "LinkTable",
    "MAX_CURSOR_LENGTH",
    "RelatedLoad",
    "ScopeValues",
    "Side",
    "StatementCache",
    "include_limits",
    "locate_bulk_row",
    "related_load",
    "scope_condition",
    "scope_shape",
    "scope_value",
]
