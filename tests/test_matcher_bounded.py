"""The matcher's time is bounded: linear in the text, and at most MAX_FIELD_CHARS read per field.

A page stuffed with lexicon terms once held up a crawl for minutes: every hit was compared with
every other. These tests time real matching of dense text (CPU time, so that other processes on
a shared machine do not count) and check that a cut field is reported, by the matcher and as the
crawl fault ``truncated``.
"""

from __future__ import annotations

import time

import pytest
from scrapy.utils.test import get_crawler

from monitor.crawling.health import errors_by_kind
from monitor.crawling.pipelines import MatchPipeline
from monitor.items import ListingItem
from monitor.matching import MAX_FIELD_CHARS, Lexicon, Matcher, MatchResult

# Terms of every species, disguises, covers, negations, work titles, units, and innocent
# look-alikes (象牙白, 豹纹, 和田玉白料): every rule of the verdict has something to look at.
DENSE_UNIT = (
    "象牙手镯 老料 犀角杯 玳瑁 虎骨 象牙白 豹纹 穿山甲片 鹤顶红 羚羊角 毛绒 仿 不是犀角 《象牙塔》 "
    "猛犸象牙 过审 白塑料 和田玉白料 圈口56 50克 手串 象 牙 吊坠 XN角手串 带帽手镯 豹纹连衣裙 "
)


def dense(chars: int) -> str:
    return (DENSE_UNIT * (chars // len(DENSE_UNIT) + 1))[:chars]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.fixture(scope="module")
def matcher(lexicon: Lexicon) -> Matcher:
    return Matcher(lexicon)


@pytest.fixture(scope="module")
def unbounded(lexicon: Lexicon) -> Matcher:
    """Reads every character, to measure how matching time grows with the text."""
    return Matcher(lexicon, max_field_chars=None)


def timed(matcher: Matcher, listing: dict[str, str], runs: int = 1) -> tuple[float, MatchResult]:
    """The best CPU time of ``runs`` matches, and the verdict."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        result = matcher.match(listing)
        best = min(best, time.process_time() - start)
    return best, result


def test_matching_time_grows_linearly_with_dense_text(unbounded: Matcher) -> None:
    small = {"title": "老料", "description": dense(50_000)}
    large = {"title": "老料", "description": dense(200_000)}
    unbounded.match({"title": "老料", "description": dense(2_000)})  # warm jieba's caches
    t_small, _ = timed(unbounded, small, runs=2)
    t_large, result = timed(unbounded, large, runs=2)
    # 4x the text: about 4x the time when linear, 16x when quadratic (it was worse: cubic)
    assert t_large / max(t_small, 1e-3) < 8, (t_small, t_large)
    assert t_large < 60, t_large
    assert result.flagged and not result.truncated
    assert len(result.matches) > 10_000  # every hit was read and judged


def test_dense_500k_page_and_5mb_description_are_bounded(matcher: Matcher) -> None:
    seconds, result = timed(matcher, {"title": "象牙手镯", "description": dense(500_000)})
    assert seconds < 10
    assert result.flagged and result.species[0] == "ivory"
    assert result.truncated == ["description"]

    seconds, result = timed(matcher, {"title": "老物件", "description": dense(5_000_000)})
    assert seconds < 10
    assert result.flagged and result.truncated == ["description"]
    assert result.to_dict()["truncated"] == ["description"]

    plain = "九成新 自用闲置 " * 600_000 + "象牙手镯"  # 5.4 million characters, the term at the end
    seconds, result = timed(matcher, {"title": "老物件", "description": plain})
    assert seconds < 10
    assert not result.flagged and result.truncated == ["description"]  # past the cap: not read


def test_cut_field_is_reported_and_matched_on_its_beginning(lexicon: Lexicon) -> None:
    small = Matcher(lexicon, max_field_chars=50)
    early = small.match({"title": "象牙手镯 老料", "description": "九成新" * 30 + "犀角杯"})
    assert early.species == ["ivory"] and early.truncated == ["description"]
    assert all(m.end <= 50 for m in early.matches)
    both = small.match({"title": "象牙手镯" + "，老料" * 30, "description": "九成新" * 30})
    assert both.truncated == ["title", "description"]
    whole = small.match({"title": "象牙手镯", "description": "x" * 50})  # exactly the cap: not cut
    assert whole.truncated == [] and "truncated" not in whole.to_dict()
    with pytest.raises(ValueError):
        Matcher(lexicon, max_field_chars=0)


def test_default_cap_leaves_ordinary_listings_whole(matcher: Matcher) -> None:
    assert MAX_FIELD_CHARS == matcher.max_field_chars == 20_000
    text = "象牙手镯 老料 圈口56，" * 1500  # 19,500 characters
    result = matcher.match({"title": "象牙手镯", "description": text})
    assert result.flagged and result.truncated == []
    assert max(m.start for m in result.matches if m.field == "description") > 19_000


def test_half_surrogate_pair_does_not_stop_the_matcher(matcher: Matcher) -> None:
    """JSON can spell half a surrogate pair ("\\ud800"); OpenCC cannot take one."""
    result = matcher.match({"title": "象牙手鐲\ud800", "description": "老料"})
    assert result.species == ["ivory"]
    assert [(m.start, m.end) for m in result.matches if m.field == "title"] == [(0, 4)]


def test_match_pipeline_counts_cut_listings_as_crawl_fault(lexicon: Lexicon) -> None:
    crawler = get_crawler()
    pipeline = MatchPipeline(lexicon, Matcher(lexicon, max_field_chars=100), crawler=crawler)
    long_item = ListingItem(site="s", external_id="1", url="http://127.0.0.1/1", title="象牙手镯",
                            description="老料 " * 100)
    short_item = ListingItem(site="s", external_id="2", url="http://127.0.0.1/2", title="象牙手镯",
                             description="老料")
    pipeline.process_item(long_item)
    pipeline.process_item(short_item)
    assert long_item.match["truncated"] == ["description"]  # type: ignore[attr-defined]
    assert long_item.match["flagged"] is True  # type: ignore[attr-defined]
    assert "truncated" not in short_item.match  # type: ignore[attr-defined]
    assert crawler.stats.get_value("wtm/errors/truncated") == 1
    assert errors_by_kind(crawler.stats.get_stats())["truncated"] == 1
