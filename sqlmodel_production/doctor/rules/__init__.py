"""The doctor's rules, one per module, in code order."""

from __future__ import annotations

from sqlmodel_production.doctor._rule import Rule

from ._async_lazy_load import AsyncLazyLoadRule as AsyncLazyLoadRule
from ._backref import BackrefRule as BackrefRule
from ._commit_in_loop import CommitInLoopRule as CommitInLoopRule
from ._commit_without_refresh import (
    CommitWithoutRefreshRule as CommitWithoutRefreshRule,
)
from ._dump_without_exclude_unset import (
    DumpWithoutExcludeUnsetRule as DumpWithoutExcludeUnsetRule,
)
from ._echo_enabled import EchoEnabledRule as EchoEnabledRule
from ._missing_pool_pre_ping import MissingPoolPrePingRule as MissingPoolPrePingRule
from ._pool_sizing import PoolSizingRule as PoolSizingRule
from ._query_in_loop import QueryInLoopRule as QueryInLoopRule
from ._relationship_in_loop import RelationshipInLoopRule as RelationshipInLoopRule
from ._secret_in_public_schema import (
    SecretInPublicSchemaRule as SecretInPublicSchemaRule,
)
from ._table_model_in_api import TableModelInApiRule as TableModelInApiRule
from ._transaction_misuse import TransactionMisuseRule as TransactionMisuseRule
from ._unbounded_limit import UnboundedLimitRule as UnboundedLimitRule
from ._unbounded_string import UnboundedStringRule as UnboundedStringRule
from ._unchecked_get import UncheckedGetRule as UncheckedGetRule
from ._unindexed_foreign_key import UnindexedForeignKeyRule as UnindexedForeignKeyRule
from ._unmanaged_session import UnmanagedSessionRule as UnmanagedSessionRule
from ._unvalidated_table_model import (
    UnvalidatedTableModelRule as UnvalidatedTableModelRule,
)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            TableModelInApiRule(),
            SecretInPublicSchemaRule(),
            EchoEnabledRule(),
            MissingPoolPrePingRule(),
            UnindexedForeignKeyRule(),
            BackrefRule(),
            CommitWithoutRefreshRule(),
            UnvalidatedTableModelRule(),
            DumpWithoutExcludeUnsetRule(),
            CommitInLoopRule(),
            UncheckedGetRule(),
            UnboundedLimitRule(),
            RelationshipInLoopRule(),
            AsyncLazyLoadRule(),
            UnboundedStringRule(),
            UnmanagedSessionRule(),
            PoolSizingRule(),
            QueryInLoopRule(),
            TransactionMisuseRule(),
        ),
        key=lambda rule: rule.code,
    )
)
"""Every rule, sorted by code."""

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "AsyncLazyLoadRule",
    "BackrefRule",
    "CommitInLoopRule",
    "CommitWithoutRefreshRule",
    "DumpWithoutExcludeUnsetRule",
    "EchoEnabledRule",
    "MissingPoolPrePingRule",
    "PoolSizingRule",
    "QueryInLoopRule",
    "RelationshipInLoopRule",
    "SecretInPublicSchemaRule",
    "TableModelInApiRule",
    "TransactionMisuseRule",
    "UnboundedLimitRule",
    "UnboundedStringRule",
    "UncheckedGetRule",
    "UnindexedForeignKeyRule",
    "UnmanagedSessionRule",
    "UnvalidatedTableModelRule",
]
