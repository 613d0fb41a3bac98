"""Which queries another kept query already covers, by how the site's search matches.

On a ``substring`` search a query containing a shorter kept one finds nothing more; on a
``segmented`` one a query whose words include all of another's likely finds nothing more, and
separators are word boundaries (see ``monitor.crawling.planner``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from monitor.crawling.query_candidates import Candidate
from monitor.matching.separators import SEPARATOR_CHARS

def dedupe_key(site_query: str, mode: str) -> str:
    key = site_query.casefold()
    if mode == "segmented":
        # the site cuts at any separator: 象*牙 and 象/牙 are the query 象 牙
        key = " ".join(SEPARATOR_CHARS.sub(" ", key).split())
    return key


def covered_by_substring(kept: list[tuple[Candidate, str]]) -> dict[str, str]:
    """Each query containing another (shorter) candidate, with that candidate (the shortest): on a
    substring search it finds nothing the shorter one does not."""
    folded = {q.casefold(): q for _, q in kept}
    out: dict[str, str] = {}
    for _, site_query in kept:
        key = site_query.casefold()
        for length in range(1, len(key)):
            cover = next((folded[key[i:i + length]] for i in range(len(key) - length + 1)
                          if key[i:i + length] in folded), None)
            if cover is not None:
                out[site_query] = cover
                break
    return out


def covered_by_words(kept: list[tuple[Candidate, str]]) -> dict[str, str]:
    """Each query whose words (as jieba cuts them) include all the words of another candidate."""
    from itertools import combinations

    words = {q: _words(q) for _, q in kept}
    by_words: dict[frozenset[str], str] = {}
    for q, w in words.items():
        if w:
            by_words.setdefault(w, q)
    out: dict[str, str] = {}
    for _, site_query in kept:
        mine = sorted(words[site_query])
        found = None
        for size in range(1, min(len(mine), 6)):
            found = next((by_words[frozenset(c)] for c in combinations(mine, size) if frozenset(c) in by_words), None)
            if found is not None:
                break
        if found is not None:
            out[site_query] = found
    return out


_TOKENIZER: Any = None


def _words(text: str) -> frozenset[str]:
    """The words a word-index search would cut ``text`` into, as jieba's stock dictionary cuts
    them (spaces and punctuation are no words)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        import logging

        import jieba

        from monitor.matching.segmenter import cache_dir, initialize

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir())
        tokenizer.cache_file = "jieba-planner.cache"
        initialize(tokenizer)
        _TOKENIZER = tokenizer
    return _cut(text.lower())


@lru_cache(maxsize=65536)
def _cut(text: str) -> frozenset[str]:
    return frozenset(w for w in _TOKENIZER.cut(text, HMM=False) if any(ch.isalnum() for ch in w))
