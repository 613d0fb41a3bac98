"""snapshot dealer figures: month snapshots written before count no dealers, so they are dropped

Each month's snapshot now also stores per-dealer counts (``monitor.storage.dealer_figures``),
which the report's dealer tables read. Snapshots are a cache, recomputed from the observations
when missing, so those written by earlier versions are deleted here and rewritten, with the
dealer figures, by the next report or monthly job. No table changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:45:00
"""

from __future__ import annotations

from typing import Sequence, Union

from alembic import op

revision: str = "0009"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_CACHE = ("month_figures", "month_matches", "month_species", "month_listings", "month_snapshots")


def upgrade() -> None:
    for table in _CACHE:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    # Snapshots written with dealer figures are still valid for 0008 (it ignores the extra rows).
    pass
