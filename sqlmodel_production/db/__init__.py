"""Settings, engines and sessions for SQLite, PostgreSQL and MariaDB."""

from ._database import Database as Database
from ._engine import create_async_engine as create_async_engine
from ._engine import create_engine as create_engine
from ._errors import ClassifiedError as ClassifiedError
from ._errors import ConnectionLost as ConnectionLost
from ._errors import DatabaseError as DatabaseError
from ._errors import ErrorKind as ErrorKind
from ._errors import classify as classify
from ._errors import mark_lost_connections as mark_lost_connections
from ._observers import EngineInfo as EngineInfo
from ._observers import Observer as Observer
from ._observers import add_observer as add_observer
from ._replicas import NodeStatus as NodeStatus
from ._replicas import Replicas as Replicas
from ._settings import DatabaseSettings as DatabaseSettings
from ._settings import Environment as Environment
from ._settings import Pooler as Pooler
from ._transaction import AsyncAttempt as AsyncAttempt
from ._transaction import Attempt as Attempt
from ._transaction import IsolationLevel as IsolationLevel
from ._transaction import RetryingTransaction as RetryingTransaction
from ._transaction import RetryPolicy as RetryPolicy
from ._transaction import transaction as transaction
from ._transaction import transactional as transactional
from ._urls import Backend as Backend
from ._urls import async_url as async_url
from ._urls import backend_of as backend_of
from ._urls import sync_url as sync_url

__all__ = [
    "AsyncAttempt",
    "Attempt",
    "Backend",
    "ClassifiedError",
    "ConnectionLost",
    "Database",
    "DatabaseError",
    "DatabaseSettings",
    "EngineInfo",
    "Environment",
    "ErrorKind",
    "IsolationLevel",
    "NodeStatus",
    "Observer",
    "Pooler",
    "Replicas",
    "RetryPolicy",
    "RetryingTransaction",
    "add_observer",
    "async_url",
    "backend_of",
    "classify",
    "create_async_engine",
    "create_engine",
    "mark_lost_connections",
    "sync_url",
    "transaction",
    "transactional",
]
