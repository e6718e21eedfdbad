"""`InvalidQuery`: a client's list parameter (filter, sort key, cursor) is not acceptable."""

from __future__ import annotations

from sqlmodel_production._exceptions import SQLModelProductionError

__all__ = ["InvalidQuery"]


class InvalidQuery(SQLModelProductionError, ValueError):
    """A client's query parameter is not acceptable (the API answers 422).

    Attributes:
        param: the query parameter at fault, e.g. `"order_by"`, `"cursor"`, `"age__in"`.
        message: what is wrong with it, for the client; never SQL, never row values.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidQuery], tuple[str, str]]:
        # Exceptions pickle as `cls(*self.args)`; ours has two arguments, not one.
        return type(self), (self.param, self.message)
