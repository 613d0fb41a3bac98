"""Dealers: connected clusters of contacts and the listings that carry them.

Two listings belong to one dealer when they share a contact, directly or through a chain
(ad A lists phone P and WeChat W, ad B on another site lists only W). A mobile number
written with one digit missing (10 digits) is joined to the known 11-digit numbers it
could be; that needs the set of stored numbers, so the fuzzy step lives here rather than
in ``monitor.contacts``. Clusters are maintained incrementally per recorded batch
(``assign_dealers``) and can be rebuilt from scratch (``recompute_dealers``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from monitor.contacts import phone_deletions, phone_insertions
from monitor.storage.models import Contact, Dealer, DealerMerge, Listing, ListingContact

_CHUNK = 500


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, node: tuple[str, int]) -> tuple[str, int]:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[tuple[str, int]]]:
        out: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
        for node in list(self.parent):
            out[self.find(node)].append(node)
        return list(out.values())


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def fuzzy_phone_matches(conn: Connection, phones: dict[int, str]) -> list[tuple[int, int]]:
    """Pairs (contact id, stored contact id) where one number is the other minus one digit."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for contact_id, value in phones.items():
        if len(value) == 11:
            candidates = phone_deletions(value)
        elif len(value) == 10:
            candidates = phone_insertions(value)
        else:
            continue
        for candidate in candidates:
            wanted[candidate].add(contact_id)
    pairs: list[tuple[int, int]] = []
    for chunk in _chunks(sorted(wanted)):
        for other, value in conn.execute(
            select(Contact.id, Contact.value).where(Contact.kind == "phone", Contact.value.in_(chunk))
        ):
            pairs.extend((contact_id, other) for contact_id in wanted[value] if contact_id != other)
    return pairs


def assign_dealers(
    conn: Connection,
    listing_contacts: dict[int, set[int]],
    new_phones: dict[int, str],
    now: datetime,
) -> None:
    """Attach the batch's listings and contacts to dealers, merging clusters they bridge."""
    uf = _UnionFind()
    for listing_id, contact_ids in listing_contacts.items():
        for contact_id in contact_ids:
            uf.union(("l", listing_id), ("c", contact_id))
    for a, b in fuzzy_phone_matches(conn, new_phones):
        uf.union(("c", a), ("c", b))
    if not uf.parent:
        return
    contact_ids = sorted(n[1] for n in uf.parent if n[0] == "c")
    listing_ids = sorted(n[1] for n in uf.parent if n[0] == "l")
    dealer_of: dict[tuple[str, int], int | None] = {}
    for chunk in _chunks(contact_ids):
        for cid, did in conn.execute(select(Contact.id, Contact.dealer_id).where(Contact.id.in_(chunk))):
            dealer_of[("c", cid)] = did
    for chunk in _chunks(listing_ids):
        for lid, did in conn.execute(select(Listing.id, Listing.dealer_id).where(Listing.id.in_(chunk))):
            dealer_of[("l", lid)] = did

    contact_updates: list[dict] = []
    listing_updates: list[dict] = []
    target_of: dict[int, int] = {}
    for node, did in dealer_of.items():
        if did is not None:
            uf.union(node, ("d", did))
    groups = uf.groups()
    fresh = [group for group in groups if not any(node[0] == "d" for node in group)]
    new_ids = iter(_new_dealers(conn, len(fresh), now))
    for group in groups:
        existing = {node[1] for node in group if node[0] == "d"}
        group = [node for node in group if node[0] != "d"]
        if existing:
            target = min(existing)  # type: ignore[type-var]
            for old in existing - {target}:
                target_of[old] = target  # type: ignore[index]
        else:
            target = next(new_ids)
        for node in group:
            if dealer_of.get(node) != target:
                (contact_updates if node[0] == "c" else listing_updates).append({"node_id": node[1], "dealer": target})
    for old, new in target_of.items():
        moved = sorted(conn.execute(select(Contact.id).where(Contact.dealer_id == old)).scalars())
        conn.execute(insert(DealerMerge).values(old_id=old, new_id=new, merged_at=now, contact_ids=moved))
        conn.execute(update(Contact).where(Contact.dealer_id == old).values(dealer_id=new))
        conn.execute(update(Listing).where(Listing.dealer_id == old).values(dealer_id=new))
    if contact_updates:
        conn.execute(
            update(Contact).where(Contact.id == bindparam("node_id")).values(dealer_id=bindparam("dealer")),
            contact_updates,
        )
    if listing_updates:
        conn.execute(
            update(Listing).where(Listing.id == bindparam("node_id")).values(dealer_id=bindparam("dealer")),
            listing_updates,
        )
    if target_of:
        conn.execute(delete(Dealer).where(Dealer.id.in_(sorted(target_of))))


def _new_dealers(conn: Connection, count: int, now: datetime) -> list[int]:
    if not count:
        return []
    result = conn.execute(insert(Dealer).returning(Dealer.id, sort_by_parameter_order=True),
                          [{"created_at": now} for _ in range(count)])
    return [row[0] for row in result]


def recompute_dealers(conn: Connection, now: datetime) -> int:
    """Rebuild every cluster from listing_contacts and the fuzzy phone rule; returns the count."""
    uf = _UnionFind()
    for listing_id, contact_id in conn.execute(select(ListingContact.listing_id, ListingContact.contact_id)):
        uf.union(("l", listing_id), ("c", contact_id))
    phones = {value: cid for cid, value in conn.execute(select(Contact.id, Contact.value).where(Contact.kind == "phone"))}
    for value, cid in phones.items():
        if len(value) == 10:
            for candidate in phone_insertions(value):
                if candidate in phones:
                    uf.union(("c", cid), ("c", phones[candidate]))
    conn.execute(update(Listing).where(Listing.dealer_id.is_not(None)).values(dealer_id=None))
    conn.execute(update(Contact).values(dealer_id=None))
    conn.execute(delete(Dealer))
    conn.execute(delete(DealerMerge))  # every id is new: the recorded merges name ids that are gone
    count = 0
    contact_rows: list[dict] = []
    listing_rows: list[dict] = []
    groups = uf.groups()
    for group, dealer_id in zip(groups, _new_dealers(conn, len(groups), now)):
        count += 1
        for kind, node_id in group:
            (contact_rows if kind == "c" else listing_rows).append({"node_id": node_id, "dealer": dealer_id})
    if contact_rows:
        conn.execute(update(Contact).where(Contact.id == bindparam("node_id")).values(dealer_id=bindparam("dealer")), contact_rows)
    if listing_rows:
        conn.execute(update(Listing).where(Listing.id == bindparam("node_id")).values(dealer_id=bindparam("dealer")), listing_rows)
    return count
