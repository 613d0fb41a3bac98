"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 19:01:02.375704
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_month'), ['month'], unique=False)

    op.create_table('dealers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dealers'))
    )
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('first_crawled_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('name', name=op.f('uq_sites_name'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=100), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_contacts_dealer_id_dealers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_contacts_kind_value'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_dealer', ['dealer_id'], unique=False)

    op.create_table('listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price_text', sa.String(length=200), nullable=False),
    sa.Column('price_cny', sa.Float(), nullable=True),
    sa.Column('price_amount', sa.Float(), nullable=True),
    sa.Column('price_currency', sa.String(length=10), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('seller', sa.String(length=200), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('first_seen_month', sa.String(length=7), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removed_month', sa.String(length=7), nullable=True),
    sa.Column('removal_kind', sa.String(length=30), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('species', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('lexicon_version', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.BigInteger(), nullable=True),
    sa.Column('fp_band0', sa.Integer(), nullable=True),
    sa.Column('fp_band1', sa.Integer(), nullable=True),
    sa.Column('fp_band2', sa.Integer(), nullable=True),
    sa.Column('fp_band3', sa.Integer(), nullable=True),
    sa.Column('repost_of', sa.Integer(), nullable=True),
    sa.Column('dealer_id', sa.Integer(), nullable=True),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_listings_dealer_id_dealers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repost_of'], ['listings.id'], name=op.f('fk_listings_repost_of_listings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_listings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings')),
    sa.UniqueConstraint('site_id', 'external_id', name=op.f('uq_listings_site_id_external_id'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index('ix_listings_dealer', ['dealer_id', 'first_seen_month'], unique=False)
        batch_op.create_index('ix_listings_flagged_site', ['flagged', 'site_id', 'first_seen_month', 'removed_month'], unique=False)
        batch_op.create_index('ix_listings_fp0', ['fp_band0'], unique=False)
        batch_op.create_index('ix_listings_fp1', ['fp_band1'], unique=False)
        batch_op.create_index('ix_listings_fp2', ['fp_band2'], unique=False)
        batch_op.create_index('ix_listings_fp3', ['fp_band3'], unique=False)
        batch_op.create_index('ix_listings_month_flagged', ['first_seen_month', 'flagged', 'site_id'], unique=False)

    op.create_table('site_crawls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('new_listings', sa.Integer(), nullable=False),
    sa.Column('removed_listings', sa.Integer(), nullable=False),
    sa.Column('health', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_site_crawls_run_id_crawl_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_crawls_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_crawls'))
    )
    with op.batch_alter_table('site_crawls', schema=None) as batch_op:
        batch_op.create_index('ix_site_crawls_month_site', ['month', 'site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_crawls_run_id'), ['run_id'], unique=False)

    op.create_table('takedown_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('platform_contact', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_takedown_requests_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_requests'))
    )
    with op.batch_alter_table('takedown_requests', schema=None) as batch_op:
        batch_op.create_index('ix_takedown_requests_month_site', ['month', 'site_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_evidence_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('listing_id', 'sha256', name=op.f('uq_evidence_listing_id_sha256'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_sha256'), ['sha256'], unique=False)

    op.create_table('listing_contacts',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_listing_contacts_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_contacts_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', 'contact_id', name=op.f('pk_listing_contacts'))
    )
    with op.batch_alter_table('listing_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_contacts_contact_id'), ['contact_id'], unique=False)

    op.create_table('listing_species',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('species', sa.String(length=30), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_month', sa.String(length=7), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_species_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_listing_species_site_id_sites')),
    sa.PrimaryKeyConstraint('listing_id', 'species', name=op.f('pk_listing_species'))
    )
    with op.batch_alter_table('listing_species', schema=None) as batch_op:
        batch_op.create_index('ix_listing_species_month', ['first_seen_month', 'species', 'site_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('species', sa.String(length=30), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('field', sa.String(length=30), nullable=False),
    sa.Column('start_offset', sa.Integer(), nullable=False),
    sa.Column('end_offset', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('trick', sa.String(length=30), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('lexicon_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_matches_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index('ix_matches_term', ['term', 'species'], unique=False)

    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('site_crawl_id', sa.Integer(), nullable=True),
    sa.Column('observed_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('price_cny', sa.Float(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_observations_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_crawl_id'], ['site_crawls.id'], name=op.f('fk_observations_site_crawl_id_site_crawls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations'))
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index('ix_observations_listing', ['listing_id', 'observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_site_crawl_id'), ['site_crawl_id'], unique=False)

    op.create_table('review_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_review_decisions_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decisions'))
    )
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_review_decisions_listing', ['listing_id', 'current'], unique=False)

    op.create_table('site_locks',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('site_crawl_id', sa.Integer(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_crawl_id'], ['site_crawls.id'], name=op.f('fk_site_locks_site_crawl_id_site_crawls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_locks_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_locks'))
    )
    op.create_table('takedown_items',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removal_kind', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_takedown_items_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['takedown_requests.id'], name=op.f('fk_takedown_items_request_id_takedown_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'listing_id', name=op.f('pk_takedown_items'))
    )
    with op.batch_alter_table('takedown_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takedown_items_listing_id'), ['listing_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('takedown_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takedown_items_listing_id'))

    op.drop_table('takedown_items')
    op.drop_table('site_locks')
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_review_decisions_listing')

    op.drop_table('review_decisions')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_site_crawl_id'))
        batch_op.drop_index('ix_observations_listing')

    op.drop_table('observations')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('ix_matches_term')
        batch_op.drop_index(batch_op.f('ix_matches_listing_id'))

    op.drop_table('matches')
    with op.batch_alter_table('listing_species', schema=None) as batch_op:
        batch_op.drop_index('ix_listing_species_month')

    op.drop_table('listing_species')
    with op.batch_alter_table('listing_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_contacts_contact_id'))

    op.drop_table('listing_contacts')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_sha256'))

    op.drop_table('evidence')
    with op.batch_alter_table('takedown_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_takedown_requests_month_site')

    op.drop_table('takedown_requests')
    with op.batch_alter_table('site_crawls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_crawls_run_id'))
        batch_op.drop_index('ix_site_crawls_month_site')

    op.drop_table('site_crawls')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('ix_listings_month_flagged')
        batch_op.drop_index('ix_listings_fp3')
        batch_op.drop_index('ix_listings_fp2')
        batch_op.drop_index('ix_listings_fp1')
        batch_op.drop_index('ix_listings_fp0')
        batch_op.drop_index('ix_listings_flagged_site')
        batch_op.drop_index('ix_listings_dealer')

    op.drop_table('listings')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_dealer')

    op.drop_table('contacts')
    op.drop_table('sites')
    op.drop_table('dealers')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_month'))

    op.drop_table('crawl_runs')
