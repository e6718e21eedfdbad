"""Row-level security for contracts

Revision ID: 7c1d2e3f4a5b
Revises: 2b3c4d5e6f7a
"""

import sqlalchemy as sa
from alembic import op

from sqlmodel_production.migrations import row_security_policies

revision = "7c1d2e3f4a5b"
down_revision = "2b3c4d5e6f7a"
branch_labels = None
depends_on = None

# The table as this migration knows it, not the model (which changes later).
contracts = sa.table("contracts", sa.column("org_id", sa.Integer()))
policies = row_security_policies(contracts, {"org_id": "app.org_id"})


def upgrade() -> None:
    for statement in policies.upgrade:
        op.execute(statement)


def downgrade() -> None:
    for statement in policies.downgrade:
        op.execute(statement)
