"""The monitor's schema as SQLAlchemy 2 typed ORM models.

Schema changes go through Alembic revisions in ``alembic/versions``; a test checks that
autogenerate finds no difference between these models and the migrated database.
Month columns ("YYYY-MM") are stored beside the timestamps they come from so that the
monthly report groups on an indexed plain string the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    first_crawled_at: Mapped[datetime | None] = mapped_column(DateTime)


class CrawlRun(Base):
    """One invocation of the crawl: the monthly run over every site, or a rerun of one."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    month: Mapped[str | None] = mapped_column(String(7), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class SiteCrawl(Base):
    """One site's part of a run, with the health figures the crawl measured."""

    __tablename__ = "site_crawls"
    __table_args__ = (Index("ix_site_crawls_month_site", "month", "site_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    month: Mapped[str] = mapped_column(String(7))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    items: Mapped[int] = mapped_column(Integer, default=0)
    new_listings: Mapped[int] = mapped_column(Integer, default=0)
    removed_listings: Mapped[int] = mapped_column(Integer, default=0)
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    site: Mapped[Site] = relationship()


class SiteLock(Base):
    """Held while a site is being crawled; a second crawl of the site is refused.

    A row per locked site; its heartbeat is refreshed at every batch so a lock left by a
    killed process goes stale and can be taken over.
    """

    __tablename__ = "site_locks"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    site_crawl_id: Mapped[int | None] = mapped_column(ForeignKey("site_crawls.id", ondelete="SET NULL"))
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)


class Dealer(Base):
    """A connected cluster of contacts and the listings carrying them: one seller."""

    __tablename__ = "dealers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        # posted_at: new versus backlog (monitor.storage.newness) is read from this index alone.
        Index("ix_listings_month_flagged", "first_seen_month", "flagged", "site_id", "posted_at"),
        Index("ix_listings_flagged_site", "flagged", "site_id", "first_seen_month", "removed_month"),
        Index("ix_listings_dealer", "dealer_id", "flagged", "site_id", "first_seen_month"),
        Index("ix_listings_fp0", "fp_band0"),
        Index("ix_listings_fp1", "fp_band1"),
        Index("ix_listings_fp2", "fp_band2"),
        Index("ix_listings_fp3", "fp_band3"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    price_text: Mapped[str] = mapped_column(String(200), default="")
    price_cny: Mapped[float | None] = mapped_column(Float)
    price_amount: Mapped[float | None] = mapped_column(Float)
    price_currency: Mapped[str] = mapped_column(String(10), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    seller: Mapped[str] = mapped_column(String(200), default="")
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    first_seen_month: Mapped[str] = mapped_column(String(7))
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_month: Mapped[str | None] = mapped_column(String(7))
    removal_kind: Mapped[str | None] = mapped_column(String(30))
    # Already removed when first seen: stored from its results-page entry (URL, title, ...) and
    # counted apart. Such a row is never ``flagged`` (which counts ads the crawl read); the
    # matcher's verdict on its title is kept in ``species`` and ``score``.
    unread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    species: Mapped[list[Any]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    lexicon_version: Mapped[str] = mapped_column(String(64), default="")
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)
    fp_band0: Mapped[int | None] = mapped_column(Integer)
    fp_band1: Mapped[int | None] = mapped_column(Integer)
    fp_band2: Mapped[int | None] = mapped_column(Integer)
    fp_band3: Mapped[int | None] = mapped_column(Integer)
    repost_of: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id", ondelete="SET NULL"))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    # What a flag offers (monitor.matching.offer): None on listings that are not flagged.
    offer_form: Mapped[str | None] = mapped_column(String(30))
    offer_quantity: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    intent: Mapped[str | None] = mapped_column(String(10))

    site: Mapped[Site] = relationship()
    matches: Mapped[list[Match]] = relationship(back_populates="listing", cascade="all, delete-orphan")


class ListingSpecies(Base):
    """One row per (flagged listing, species), carrying the columns the report groups on."""

    __tablename__ = "listing_species"
    __table_args__ = (
        Index("ix_listing_species_month", "first_seen_month", "species", "site_id"),
    )

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    species: Mapped[str] = mapped_column(String(30), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    first_seen_month: Mapped[str] = mapped_column(String(7))


class Observation(Base):
    """A listing as one crawl saw it; ``changes`` maps each changed field to [old, new]."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_listing", "listing_id", "observed_at"),
        # What changed after a month's end (monitor.storage.snapshots) is a range scan on this.
        Index("ix_observations_observed_at", "observed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    site_crawl_id: Mapped[int | None] = mapped_column(ForeignKey("site_crawls.id", ondelete="SET NULL"), index=True)
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10))
    price_cny: Mapped[float | None] = mapped_column(Float)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class Match(Base):
    """A matcher hit on a listing's current text (replaced when the text or lexicon changes)."""

    __tablename__ = "matches"
    __table_args__ = (Index("ix_matches_term", "term", "species"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    species: Mapped[str] = mapped_column(String(30))
    term: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30), default="")
    field: Mapped[str] = mapped_column(String(30), default="")
    start_offset: Mapped[int] = mapped_column(Integer, default=0)
    end_offset: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(200), default="")
    trick: Mapped[str] = mapped_column(String(30), default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    lexicon_version: Mapped[str] = mapped_column(String(64), default="")

    listing: Mapped[Listing] = relationship(back_populates="matches")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("kind", "value"), Index("ix_contacts_dealer", "dealer_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class ListingContact(Base):
    __tablename__ = "listing_contacts"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True)
    raw: Mapped[str] = mapped_column(String(200), default="")


class Evidence(Base):
    """A saved copy of a listing page: gzip file under the data folder, named by its hash."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("listing_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    size: Mapped[int] = mapped_column(Integer)
    # As fetched, so a GBK or Big5 page is served back readable; "" on evidence saved before 0007.
    content_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    charset: Mapped[str] = mapped_column(String(40), default="", server_default="")


class TakedownRequest(Base):
    """A list of listings reported to one platform on one date."""

    __tablename__ = "takedown_requests"
    __table_args__ = (Index("ix_takedown_requests_month_site", "month", "site_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    month: Mapped[str] = mapped_column(String(7))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    platform_contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class TakedownItem(Base):
    """One reported listing and its outcome (filled in by the crawl that finds it gone)."""

    __tablename__ = "takedown_items"

    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id", ondelete="CASCADE"), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True, index=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removal_kind: Mapped[str | None] = mapped_column(String(30))


class ReviewDecision(Base):
    """An analyst's verdict on a flagged listing; older verdicts stay, ``current`` marks the latest."""

    __tablename__ = "review_decisions"
    __table_args__ = (Index("ix_review_decisions_listing", "listing_id", "current"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class QueryYield(Base):
    """What one search query did on one site in one crawl run: result pages requested, listings
    found, and flagged listings new to the database (the query planner orders by these).

    ``query`` is the query as the site received it (in its script); a run that resumes adds to
    its own rows."""

    __tablename__ = "query_yields"
    __table_args__ = (
        UniqueConstraint("site", "month", "query", "run_id"),
        Index("ix_query_yields_site_month", "site", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    month: Mapped[str] = mapped_column(String(7))
    query: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="")
    requests: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)
    flagged_new: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))


class SearchGram(Base):
    """Search index: one row per overlapping character bigram of a listing's title and
    description (and each text run's last character), so two-character terms such as 象牙 are
    found on SQLite and PostgreSQL alike; filled by ``monitor.storage.search``. Two rows whose
    grams no text produces ("" and " ") hold how far its listing and observation passes got."""

    __tablename__ = "search_grams"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    # No foreign key: a search joins listings, so a deleted listing's rows only cost space.
    listing_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class MonthSnapshot(Base):
    """A month's as-of state is stored (``month_listings``, ``month_species``), written from the
    observations up to the month's end; ``observation_id`` is the newest observation it read, so
    an observation dated in the month that arrives later makes it stale. A cache: deleting it
    gives the same figures, recomputed (``monitor.storage.snapshots``)."""

    __tablename__ = "month_snapshots"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    written_at: Mapped[datetime] = mapped_column(DateTime)
    observation_id: Mapped[int] = mapped_column(Integer, default=0)


class MonthListing(Base):
    """A flagged (or unread) listing as it stood at the end of ``month``: the report's rows."""

    __tablename__ = "month_listings"
    # Without rowid (SQLite), every index carries the listing id: the per-row review check
    # (rejected, confirmed) is read from the index alone.
    __table_args__ = (
        Index("ix_month_listings_new", "month", "first_seen_month", "flagged", "site_id", "posted_at"),
        Index("ix_month_listings_site", "month", "site_id", "flagged", "first_seen_month", "first_seen", "removed_at",
              "posted_at"),
        Index("ix_month_listings_dealer", "month", "dealer_id", "flagged", "site_id", "first_seen_month"),
        Index("ix_month_listings_removed", "month", "removed_month", "site_id"),
        {"sqlite_with_rowid": False},
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    first_seen_month: Mapped[str] = mapped_column(String(7))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_month: Mapped[str | None] = mapped_column(String(7))
    removal_kind: Mapped[str | None] = mapped_column(String(30))
    unread: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    species: Mapped[list[Any]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    price_cny: Mapped[float | None] = mapped_column(Float)
    repost_of: Mapped[int | None] = mapped_column(Integer)
    dealer_id: Mapped[int | None] = mapped_column(Integer)


class MonthSpecies(Base):
    """One row per (listing flagged at the end of ``month``, species), as ``listing_species``."""

    __tablename__ = "month_species"
    __table_args__ = (Index("ix_month_species_new", "month", "first_seen_month", "species", "site_id"),
                      {"sqlite_with_rowid": False})

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    species: Mapped[str] = mapped_column(String(30), primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer)
    first_seen_month: Mapped[str] = mapped_column(String(7))


class MonthMatch(Base):
    """The matcher's hits on a listing of ``month``'s snapshot first seen in it or the month
    before (the report's term table compares the two), as they stood at its end."""

    __tablename__ = "month_matches"
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(100))
    species: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(30), default="")


class MonthFigure(Base):
    """A count over ``month``'s snapshot before analysts' decisions (they are applied when the
    report is read, from the few decided ads): ``figure`` names it, ``a`` and ``b`` key it."""

    __tablename__ = "month_figures"
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    a: Mapped[str] = mapped_column(String(30), primary_key=True)
    b: Mapped[str] = mapped_column(String(30), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class DealerMerge(Base):
    """Two dealers joined into one (``old_id`` into ``new_id``) by an ad linking their contacts,
    with the contacts ``old_id`` had then: a past month's report undoes the merges made since."""

    __tablename__ = "dealer_merges"
    __table_args__ = (Index("ix_dealer_merges_merged_at", "merged_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_id: Mapped[int] = mapped_column(Integer)
    new_id: Mapped[int] = mapped_column(Integer)
    merged_at: Mapped[datetime] = mapped_column(DateTime)
    contact_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
