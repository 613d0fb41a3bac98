"""Content fingerprints that survive re-posting: 64-bit SimHash over normalised text.

A dealer re-posting an ad under a new id, or on another site (perhaps in Traditional
script), changes the id, punctuation and spacing but little of the wording. Text is
folded (NFKC, lower case, Traditional to Simplified, punctuation and spaces dropped) and
hashed over character trigrams; two ads whose fingerprints differ in at most
``NEAR_BITS`` bits are the same ad. Storing the four 16-bit bands separately lets the
database find candidates by exact index lookups (pigeonhole: within 3 bits, one band
is equal). Re-posts that keep only part of the text are caught by a second rule in
``monitor.storage.batches``: same dealer, same normalised title. Fingerprints are computed for flagged listings only: re-posts are linked among
the ads the report counts, the band indexes stay small and the crawl stays fast.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

NEAR_BITS = 3
MIN_TEXT = 12
MIN_TITLE = 4
MAX_TEXT = 20_000
_LANE = 16
_LANE_MASK = (1 << _LANE) - 1
# _SPREAD[position][byte]: the byte's bits placed in the 16-bit lanes of bits position*8..+7.
_SPREAD = [
    [sum(1 << (_LANE * (position * 8 + bit)) for bit in range(8) if value >> bit & 1) for value in range(256)]
    for position in range(8)
]
_DROP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_MASK64 = (1 << 64) - 1


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    return _DROP.sub("", _t2s().convert(folded))


def simhash(text: str) -> int | None:
    """Signed 64-bit SimHash of ``text`` (fits a BIGINT), or None when too short to judge."""
    norm = normalise_text(text)[:MAX_TEXT]
    if len(norm) < MIN_TEXT:
        return None
    shingles = {norm[i:i + 3] for i in range(len(norm) - 2)}
    # Bit b of the result is the majority of bit b over the shingles' 64-bit hashes
    # (little-endian). Each hash byte adds its bits into 16-bit lanes of one big integer,
    # so the per-shingle work is eight table look-ups instead of a 64-step loop.
    lanes = 0
    for shingle in shingles:
        for position, value in enumerate(hashlib.blake2b(shingle.encode(), digest_size=8).digest()):
            lanes += _SPREAD[position][value]
    total = len(shingles)
    unsigned = 0
    for bit in range(64):
        if 2 * ((lanes >> (_LANE * bit)) & _LANE_MASK) > total:
            unsigned |= 1 << bit
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def bands(fingerprint: int) -> tuple[int, int, int, int]:
    unsigned = fingerprint & _MASK64
    return tuple((unsigned >> (16 * i)) & 0xFFFF for i in range(4))  # type: ignore[return-value]


def distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def listing_text(title: str, description: str) -> str:
    return f"{title or ''}\n{description or ''}"
