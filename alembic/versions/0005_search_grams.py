"""search_grams: the workbench's search index of character bigrams (two-character terms such as 象牙)

The table starts empty; ``monitor.storage.search.refresh_index`` fills it (``wtm serve`` runs
it at start and before each search), so upgrading a large database stays quick.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "search_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", "listing_id", name=op.f("pk_search_grams")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("search_grams")
