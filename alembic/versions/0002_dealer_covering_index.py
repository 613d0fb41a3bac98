"""dealer covering index: the report's top-dealers query reads only the index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 20:05:00
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_dealer")
        batch_op.create_index(
            "ix_listings_dealer", ["dealer_id", "flagged", "site_id", "first_seen_month"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_dealer")
        batch_op.create_index("ix_listings_dealer", ["dealer_id", "first_seen_month"], unique=False)
