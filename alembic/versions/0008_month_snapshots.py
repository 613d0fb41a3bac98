"""month snapshots: each month's figures read from the listings as they stood at its end

A month's report is computed from what was known at the end of the month, so a report
regenerated later says the same. Replaying the observations for that is slow on millions of
rows, so the as-of state is kept per month (written when the month's crawl is done, or on the
first report of the month); it is a cache, recomputed from the observations when deleted. The
observation time index finds what changed after a month's end, and dealer merges are
recorded so that a past month's dealers can be told apart again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:05:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.create_index("ix_observations_observed_at", ["observed_at"], unique=False)
    op.create_table(
        "month_snapshots",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_month_snapshots")),
    )
    op.create_table(
        "month_listings",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("first_seen_month", sa.String(length=7), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_month", sa.String(length=7), nullable=True),
        sa.Column("removal_kind", sa.String(length=30), nullable=True),
        sa.Column("unread", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("species", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("price_cny", sa.Float(), nullable=True),
        sa.Column("repost_of", sa.Integer(), nullable=True),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_month_listings_listing_id_listings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("month", "listing_id", name=op.f("pk_month_listings")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_month_listings_new", "month_listings",
                    ["month", "first_seen_month", "flagged", "site_id", "posted_at"], unique=False)
    op.create_index("ix_month_listings_site", "month_listings",
                    ["month", "site_id", "flagged", "first_seen_month", "first_seen", "removed_at", "posted_at"], unique=False)
    op.create_index("ix_month_listings_dealer", "month_listings",
                    ["month", "dealer_id", "flagged", "site_id", "first_seen_month"], unique=False)
    op.create_index("ix_month_listings_removed", "month_listings", ["month", "removed_month", "site_id"], unique=False)
    op.create_table(
        "month_species",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("species", sa.String(length=30), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_month", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_month_species_listing_id_listings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("month", "listing_id", "species", name=op.f("pk_month_species")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_month_species_new", "month_species", ["month", "first_seen_month", "species", "site_id"],
                    unique=False)
    op.create_table(
        "month_matches",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("species", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_month_matches_listing_id_listings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("month", "listing_id", "seq", name=op.f("pk_month_matches")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "month_figures",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figure", sa.String(length=20), nullable=False),
        sa.Column("a", sa.String(length=30), nullable=False),
        sa.Column("b", sa.String(length=30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "figure", "a", "b", name=op.f("pk_month_figures")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "dealer_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_id", sa.Integer(), nullable=False),
        sa.Column("new_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("contact_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dealer_merges")),
    )
    op.create_index("ix_dealer_merges_merged_at", "dealer_merges", ["merged_at"], unique=False)


def downgrade() -> None:
    op.drop_table("dealer_merges")
    op.drop_table("month_figures")
    op.drop_table("month_matches")
    op.drop_table("month_species")
    op.drop_table("month_listings")
    op.drop_table("month_snapshots")
    with op.batch_alter_table("observations") as batch:
        batch.drop_index("ix_observations_observed_at")
