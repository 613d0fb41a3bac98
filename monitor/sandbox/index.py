"""How a site finds its listings: the search index (substring or segmented words) and the
category a seller files each listing under.

Both are decided per site by the data in sites.py (``search_mode``, ``result_cap``,
``categories``); the world applies them (world.search, world.category) and the HTTP pages
only page through what the world returns, so the truth and the wire cannot disagree.
"""

from __future__ import annotations

import gc
import logging
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from monitor.sandbox.sites import SandboxSite

if TYPE_CHECKING:
    from monitor.sandbox.world import Listing

# Shares of listings the seller files under a category other than the one their topic belongs
# to (half of them into the site's catch-all category, if it has one).
MISFILED_ILLEGAL = 0.15
MISFILED_OTHER = 0.04


class WordSegmenter:
    """The word index of the segmented sites: jieba's stock dictionary, precise mode, no HMM.

    A private ``jieba.Tokenizer()``, never the global one (the matcher may load a user
    dictionary into that, which would change what the sites find). Loaded on first use
    (about a second); its cache lives in the user's cache folder, not a shared /tmp file.
    """

    def __init__(self) -> None:
        self._tokenizer: Any = None
        self._runs: Any = None
        self._lock = threading.Lock()
        self._run_words: dict[str, tuple[str, ...]] = {}

    def _ready(self) -> Any:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    import jieba

                    logging.getLogger("jieba").setLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.tmp_dir = str(_cache_dir())
                    tokenizer.cache_file = "jieba-sandbox.cache"
                    was_enabled = gc.isenabled()
                    gc.disable()  # jieba unmarshals ~350k small objects; collecting meanwhile only costs time
                    try:
                        tokenizer.initialize()
                    finally:
                        if was_enabled:
                            gc.enable()
                    self._runs = jieba.re_han_default  # the runs of characters jieba segments
                    self._tokenizer = tokenizer
        return self._tokenizer

    def words(self, text: str) -> frozenset[str]:
        """The words of ``text`` (already lower-cased); spaces and punctuation are not words.

        The same words as ``cut(text, HMM=False)``: jieba segments each run of word characters
        on its own and yields everything between runs character by character, so runs (which
        repeat from ad to ad) are segmented once and the characters between them kept as words
        when they are letters or digits (full-width digits, say).
        """
        tokenizer = self._ready()
        found: set[str] = set()
        for n, part in enumerate(self._runs.split(text)):
            if n % 2 == 0:
                found.update(ch for ch in part if ch.isalnum())
                continue
            words = self._run_words.get(part)
            if words is None:
                words = tuple(w for w in tokenizer.cut(part, HMM=False) if _is_word(w))
                if len(self._run_words) > 200_000:
                    self._run_words.clear()
                self._run_words[part] = words
            found.update(words)
        return frozenset(found)


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _cache_dir() -> Path:
    candidate = Path.home() / ".cache" / "wildlife-trade-monitor"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    except OSError:
        return Path(tempfile.mkdtemp(prefix="wtm-sandbox-"))


SEGMENTER = WordSegmenter()


@lru_cache(maxsize=8192)
def query_words(keyword: str) -> frozenset[str]:
    return SEGMENTER.words(keyword.lower())


def listing_words(item: Listing) -> frozenset[str]:
    """A listing's words, segmented once and kept on the listing (title and text never change)."""
    words = item.tokens
    if words is None:
        words = item.tokens = SEGMENTER.words(item.search_text)
    return words


def matcher(spec: SandboxSite, keyword: str) -> Callable[[Listing], bool] | None:
    """A test of whether the site's search finds a listing for ``keyword``; None when the
    keyword finds nothing at all (empty, or no word in it)."""
    text = keyword.strip()
    if not text:
        return None
    if spec.search_mode == "segmented":
        wanted = query_words(text)
        if not wanted:
            return None
        return lambda item: wanted <= listing_words(item)
    needle = text.lower()
    return lambda item: needle in item.search_text


def file_listing(spec: SandboxSite, item: Listing, seed: int) -> tuple[str, ...]:
    """Keys of the categories (in the site's order) a listing is filed under.

    Every everything-feed lists it; of the other categories, the first whose topics take the
    listing's topic, else the catch-all. Some sellers pick another category (a fixed share,
    more of them dealers): half of those into the catch-all, the rest anywhere else.
    """
    from monitor.sandbox.world import hash01

    if not spec.categories:
        return ()
    sorted_into = [c for c in spec.categories if not c.everything]
    catch_all = next((c for c in sorted_into if c.catch_all), None)
    home = next((c for c in sorted_into if item.topic in c.topics), catch_all)
    share = MISFILED_ILLEGAL if item.kind == "illegal" else MISFILED_OTHER
    draw = hash01(seed, "misfiled", spec.name, item.external_id)
    if draw < share and sorted_into:
        others = [c for c in sorted_into if c is not home]
        if catch_all is not None and catch_all is not home and draw < share / 2:
            home = catch_all
        elif others:
            home = others[int(hash01(seed, "misfiled-to", spec.name, item.external_id) * len(others))]
    return tuple(c.key for c in spec.categories if c.everything or c is home)
