"""listing month index carries posted_at: new-versus-backlog series are read from the index alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:05:00
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_month_flagged")
        batch_op.create_index("ix_listings_month_flagged", ["first_seen_month", "flagged", "site_id", "posted_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_month_flagged")
        batch_op.create_index("ix_listings_month_flagged", ["first_seen_month", "flagged", "site_id"], unique=False)
