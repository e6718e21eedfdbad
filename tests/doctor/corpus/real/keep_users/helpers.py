# Origin: keephq/keep, keep/api/models/db/helpers.py at af93f550b6498089d5e93b6dd426fc2a49498464.
# Licence: MIT. Reduced.
from sqlalchemy.dialects.mysql import DATETIME as MySQL_DATETIME


def datetime_column_type(dialect: str):
    return MySQL_DATETIME(fsp=6) if dialect == "mysql" else None
