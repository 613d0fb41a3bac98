"""listings carry what a flag offers (form, quantity, intent); evidence keeps its media type

The supply table reads a flag's product form and quantity, and 收/求购 ads are counted apart,
so the matcher's offer is stored with the verdict. The workbench serves a stored GBK or Big5
page with the content type and charset it was fetched with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("offer_form", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("offer_quantity", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("intent", sa.String(length=10), nullable=True))
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("content_type", sa.String(length=100), server_default="", nullable=False))
        batch.add_column(sa.Column("charset", sa.String(length=40), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("charset")
        batch.drop_column("content_type")
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("intent")
        batch.drop_column("offer_quantity")
        batch.drop_column("offer_form")
