"""jieba, set up for the matcher: a private tokenizer, a per-user cache, a trimmed dictionary.

jieba's stock dictionary (350,000 words) takes about a second to load. The matcher only asks
jieba whether a hit sits inside a longer ordinary word (象牙塔, 虎皮鹦鹉), and such a word always
shares two adjacent characters with a lexicon word, so only those stock words are loaded
(the trimmed dictionary is cached per lexicon version).
The cache lives in the user's cache folder, never a shared /tmp file (jieba issue #274).
"""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any, Collection, Iterable

from monitor.collector import paused


def cache_dir() -> Path:
    candidate = Path.home() / ".cache" / "wildlife-trade-monitor"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        probe = candidate / ".probe"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
        return candidate
    except OSError:
        return Path(tempfile.mkdtemp(prefix="wtm-cache-"))


def stock_frequencies(wanted: set[str]) -> dict[str, int]:
    """Frequencies in jieba's full stock dictionary of the ``wanted`` words (used when compiling)."""
    import jieba

    freqs: dict[str, int] = {}
    source = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    with source.open(encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.partition(" ")
            if word in wanted:
                count = rest.split(" ", 1)[0]
                freqs[word] = int(count) if count.strip().isdigit() else 0
    return freqs


def _trimmed_dictionary(folder: Path, version: str, pairs: set[str]) -> Path:
    import ahocorasick
    import jieba

    path = folder / f"jieba-dict-{version}-{TRIM_RULE}.txt"
    if path.exists():
        return path
    text = (Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME).read_text(encoding="utf-8")
    finder = ahocorasick.Automaton()
    for pair in pairs:
        finder.add_word(pair, pair)
    finder.make_automaton()
    starts = {text.rfind("\n", 0, end) + 1 for end, _ in finder.iter(text)}
    kept = []
    for start in sorted(starts):
        stop = text.find("\n", start)
        kept.append(text[start:] if stop < 0 else text[start:stop + 1])
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("".join(kept), encoding="utf-8")
    tmp.replace(path)
    return path


_ABSENT = object()
TRIM_RULE = 2  # in the cached files' names: a change to the trimming rule must not reuse them


def initialize(tokenizer: Any) -> None:
    """``tokenizer.initialize()``, reading a valid cache in one piece: jieba's ``marshal.load``
    on the open file reads it a few bytes at a time (0.5 s here, against 0.15 s from one read).
    The cache is valid as jieba judges it: newer than a custom dictionary. The cycle collector
    is paused meanwhile: jieba unmarshals ~100k small objects, and collecting only costs time."""
    import jieba

    cache = Path(tokenizer.tmp_dir or tempfile.gettempdir()) / (tokenizer.cache_file or "jieba.cache")
    dictionary = tokenizer.dictionary
    with paused():
        try:
            if dictionary == jieba.DEFAULT_DICT or cache.stat().st_mtime > os.path.getmtime(dictionary):
                tokenizer.FREQ, tokenizer.total = marshal.loads(cache.read_bytes())
                tokenizer.initialized = True
                return
        except (OSError, ValueError, EOFError, TypeError):
            pass  # no cache yet, or a bad one: jieba builds and writes it
        tokenizer.initialize()


class Segmenter:
    def __init__(self, folder: Path, version: str, words: Iterable[str]) -> None:
        import jieba

        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.setLogLevel(logging.WARNING)
        # pairs of Latin letters (ad, an in gading, marfil) would keep nearly every line of jieba's
        # dictionary by its part-of-speech tags, and the lexicon's words are matched in Chinese text
        pairs = {pair for w in words for i in range(len(w) - 1) if not (pair := w[i:i + 2]).isascii()}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            dictionary = _trimmed_dictionary(folder, version, pairs)
            self.tokenizer: Any = jieba.Tokenizer(str(dictionary))
            self.tokenizer.cache_file = f"jieba-{version}-{TRIM_RULE}.cache"
        except OSError:
            self.tokenizer = jieba.Tokenizer()
            self.tokenizer.cache_file = "jieba-wtm.cache"
        self.tokenizer.tmp_dir = str(folder)
        initialize(self.tokenizer)
        self._user: set[str] = set()

    def stock_frequency(self, word: str) -> int:
        if word in self._user:
            return 0
        return self.tokenizer.FREQ.get(word, 0) or 0

    def add_words(self, words: dict[str, int]) -> None:
        for word, freq in words.items():
            stock = self.stock_frequency(word)
            if stock == 0:
                self._user.add(word)
            self.tokenizer.add_word(word, max(freq, stock))

    def has_word_around(self, text: str, start: int, end: int, unless: Collection[str]) -> bool:
        """Whether a dictionary word with a stock frequency, not in ``unless``, holds
        ``text[start:end]`` and is longer. jieba's dictionary holds every prefix of its words
        (frequency 0), as its own word graph needs: a piece that is no prefix ends the search."""
        freq, user = self.tokenizer.FREQ, self._user
        for a in range(start, -1, -1):
            if text[a:end] not in freq:
                continue
            for b in range(end + (a == start), len(text) + 1):
                word = text[a:b]
                found = freq.get(word, _ABSENT)
                if found is _ABSENT:
                    break
                if found and found > 0 and word not in user and word not in unless:
                    return True
        return False

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        return list(self.tokenizer.tokenize(text, HMM=False))
