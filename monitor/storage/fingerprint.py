"""Content fingerprints that survive re-posting: 64-bit SimHash over normalised text.

A dealer re-posting an ad under a new id, or on another site (perhaps in Traditional
script), changes the id, punctuation and spacing but little of the wording. Text is
folded (NFKC, lower case, Traditional to Simplified, punctuation and spaces dropped) and
hashed over character trigrams; two ads whose fingerprints differ in at most
``NEAR_BITS`` bits are the same ad. Storing the four 16-bit bands separately lets the
database find candidates by exact index lookups (pigeonhole: within 3 bits, one band
is equal). Bands are stored for flagged listings only: re-posts are linked among the ads
the report counts, and the band indexes stay small.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

NEAR_BITS = 3
MIN_TEXT = 12
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
    norm = normalise_text(text)
    if len(norm) < MIN_TEXT:
        return None
    shingles = {norm[i:i + 3] for i in range(len(norm) - 2)}
    counts = [0] * 64
    for shingle in shingles:
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "little")
        bits = f"{h:064b}"
        for i, bit in enumerate(bits):
            counts[i] += 1 if bit == "1" else -1
    value = 0
    for count in counts:
        value = (value << 1) | (1 if count > 0 else 0)
    return value - (1 << 64) if value >= 1 << 63 else value


def bands(fingerprint: int) -> tuple[int, int, int, int]:
    unsigned = fingerprint & _MASK64
    return tuple((unsigned >> (16 * i)) & 0xFFFF for i in range(4))  # type: ignore[return-value]


def distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def listing_text(title: str, description: str) -> str:
    return f"{title or ''}\n{description or ''}"
