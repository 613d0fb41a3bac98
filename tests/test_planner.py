"""The query planner on the shipped lexicon, with site definitions that differ in how their search
matches, whether it caps results, their script and their charset; and the stored yields that
order the queries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.crawling.planner import plan_for_site
from monitor.crawling.query_candidates import KINDS, Candidate, lexicon_candidates, separators
from monitor.crawling.sites import SiteConfig, load_site_file, shipped_sites_dir
from monitor.exceptions import SiteFileError
from monitor.matching import Lexicon
from monitor.matching.separators import SEPARATOR_CHARS
from monitor.storage.yields import YieldRecord

MONTH = "2025-07"
EVERYTHING = 100_000


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


def site(match: str = "substring", cap: int | None = None, script: str = "simplified", variant: str = "s2t",
         charset: str = "utf-8", name: str = "testsite") -> SiteConfig:
    base = load_site_file(shipped_sites_dir() / "tongcheng.yaml")
    return replace(base, name=name, search_match=match, search_cap=cap, script=script, variant=variant,
                   charset=charset)


def sent(plan) -> dict[str, object]:
    return {q.site_query: q for q in plan.queries}


def skipped(plan) -> dict[str, str]:
    return {s.site_query: s.why for s in plan.skipped}


def test_candidates_come_from_the_lexicon_with_kind_and_species(lexicon: Lexicon) -> None:
    candidates = lexicon_candidates(lexicon)
    assert {c.kind for c in candidates} == set(KINDS)
    assert {c.species for c in candidates} == set(lexicon.species)
    by_text = {(c.text, c.kind) for c in candidates}
    assert ("象牙", "plain") in by_text and ("白塑料", "code_word") in by_text and ("猛犸", "cover") in by_text
    assert ("象 牙", "separator") in by_text and ("象ya", "pinyin_mix") in by_text and ("白塑膠", "traditional") in by_text
    # same-sound spellings from the curated classes of homophones.yaml, ordinary words left out
    homophones = {c.text for c in candidates if c.kind == "homophone"}
    assert {"象芽", "代帽"} <= homophones
    assert not homophones & {t.term for t in lexicon.terms()}


def test_separators_are_the_normalisers_space_first() -> None:
    chosen = separators()
    assert chosen[0] == " " and {"*", "/", "-", "."} <= set(chosen)
    assert all(SEPARATOR_CHARS.fullmatch(c) for c in chosen)


def test_substring_search_skips_queries_that_contain_a_kept_one(lexicon: Lexicon) -> None:
    plan = plan_for_site(lexicon, site("substring"), [], MONTH, EVERYTHING)
    queries, why = sent(plan), skipped(plan)
    assert "象牙" in queries
    assert why["象牙手镯"] == "covered by '象牙' (substring search)"
    # every separator is its own query: 象 牙 does not find 象*牙
    for sep in (" ", "*", "/", "-", "."):
        assert f"象{sep}牙" in queries, sep
    # two characters of a longer name with a separator stand for every split there
    assert "羚*羊" in queries and why["羚*羊*角"] == "covered by '羚*羊' (substring search)"
    # the name less its first or last character finds every spelling changing only that one
    assert "羊角" in queries and why["零羊角"] == "covered by '羊角' (substring search)"
    assert why["羚*羊角"].startswith("covered by") and why["ling羊角"] == "covered by '羊角' (substring search)"


def test_a_query_covering_others_on_a_substring_search_is_worth_the_best_of_them(lexicon: Lexicon) -> None:
    """象y finds every 象ya ad: ranked on its own (a fragment, low prior) it fell over budget while
    象ya was left out as covered, so no query found 象ya ads at all."""
    plan = plan_for_site(lexicon, site("substring"), [], MONTH, 250)
    queries, why = sent(plan), skipped(plan)
    assert why["象ya"] == "covered by '象y' (substring search)"
    assert "象y" in queries and "finds what '象ya' would" in queries["象y"].reason
    alone = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING)
    assert queries["象y"].expected >= sent(alone)["象ya"].expected


def test_segmented_search_sends_one_form_per_split(lexicon: Lexicon) -> None:
    plan = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING)
    queries, why = sent(plan), skipped(plan)
    assert "象 牙" in queries and "象牙" in queries and "象牙手镯" in queries
    assert why["象*牙"] == "same query as '象 牙' on this site (its search cuts words at separators)"
    assert "羚 羊角" in queries and "羚 羊 角" in queries
    assert "羚 羊" not in queries  # a fragment finds nothing more where search goes by words
    assert not any(w.startswith("covered") for w in why.values())


def test_segmented_search_gets_disguised_product_words_and_tries_word_supersets_later(lexicon: Lexicon) -> None:
    segmented = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING)
    order = [q.site_query for q in segmented.queries]
    # a word index cuts 希角杯 into 希 / 角杯: 希角 does not find it, 希角杯 does
    assert sent(segmented)["希角杯"].kind == "homophone" and "xi角杯" in order
    # 象牙麻将 (象牙 / 麻将) finds nothing 象牙 does not, as far as jieba's words tell
    assert order.index("象牙麻将") > order.index("象芽")
    substring = plan_for_site(lexicon, site("substring"), [], MONTH, EVERYTHING)
    assert skipped(substring)["希角杯"] == "covered by '希角' (substring search)"


@pytest.mark.parametrize(("match", "cap"), [("unknown", None), ("substring", 60), ("segmented", 100)])
def test_unknown_or_capped_search_skips_nothing_as_covered(lexicon: Lexicon, match: str, cap: int | None) -> None:
    plan = plan_for_site(lexicon, site(match, cap), [], MONTH, EVERYTHING)
    assert not any(s.why.startswith("covered") for s in plan.skipped)
    assert {"象牙", "象牙手镯"} <= set(sent(plan))


def test_traditional_site_gets_every_query_in_its_script_and_charset(lexicon: Lexicon) -> None:
    big5 = site("substring", script="traditional", variant="s2tw", charset="big5")
    plan = plan_for_site(lexicon, big5, [], MONTH, EVERYTHING)
    queries, why = sent(plan), skipped(plan)
    assert "鶴頂" in queries and "鹤顶" not in queries and why["鶴頂紅"] == "covered by '鶴頂' (substring search)"
    assert queries["鶴頂"].query == "鹤顶"  # the spider converts what it is given
    assert all(big5.site_keyword(q.query) == q.site_query for q in plan.queries)
    assert all(q.site_query.encode("big5") for q in plan.queries)
    assert why["猛獁象牙"] == "big5 cannot encode 獁"
    assert "長毛象" in queries  # Hong Kong / Taiwan wording from the lexicon's regional vocabulary
    assert any(s.why == "same as '象牙手镯' (plain) in the site's script" for s in plan.skipped)
    utf8 = plan_for_site(lexicon, replace(big5, charset="utf-8"), [], MONTH, EVERYTHING)
    assert "猛獁" in sent(utf8)


def test_simplified_site_also_searches_traditional_spellings(lexicon: Lexicon) -> None:
    plan = plan_for_site(lexicon, site("substring"), [], MONTH, EVERYTHING)
    assert sent(plan)["白塑膠"].kind == "traditional"
    assert sent(plan)["鶴頂"].kind == "traditional"


def test_charset_that_cannot_encode_a_query_drops_it(lexicon: Lexicon) -> None:
    candidates = [Candidate("象牙", "plain", "ivory", "象牙"), Candidate("🐘牙", "plain", "ivory", "象牙"),
                  Candidate("犀角", "plain", "rhino_horn", "犀角")]
    plan = plan_for_site(lexicon, site("unknown", charset="gbk"), [], MONTH, 10, candidates=candidates)
    assert sorted(q.site_query for q in plan.queries) == ["犀角", "象牙"]
    assert skipped(plan) == {"🐘牙": "gbk cannot encode 🐘"}


def test_plan_keeps_to_the_budget(lexicon: Lexicon) -> None:
    for budget in (5, 40, 250):
        plan = plan_for_site(lexicon, site("segmented"), [], MONTH, budget)
        assert budget - 2 <= plan.estimated_requests <= budget
        assert any(s.why.startswith("over budget") for s in plan.skipped)
    small = plan_for_site(lexicon, site("segmented"), [], MONTH, 10)
    assert "象牙" in small.keywords and {q.kind for q in small.queries} == {"plain"}


def rows(site_name: str, month: str, **yields: tuple[int, int, int]) -> list[YieldRecord]:
    return [YieldRecord(site_name, month, query, "", *figures) for query, figures in yields.items()]


def test_queries_that_brought_new_flagged_ads_go_first(lexicon: Lexicon) -> None:
    history = rows("testsite", "2025-06", 象芽=(1, 2, 2), 白塑料=(1, 1, 1))
    history += [r for m in ("2025-04", "2025-05", "2025-06") for r in rows("testsite", m, 象牙=(4, 30, 0))]
    plan = plan_for_site(lexicon, site("segmented"), history, MONTH, 60)
    order = [q.site_query for q in plan.queries]
    assert order[:2] == ["象芽", "白塑料"]
    first = plan.queries[0]
    assert first.kind == "homophone" and first.last is not None and first.last.flagged_new == 2
    assert first.reason.startswith("here: 2 new flagged, 2 found in 1 requests")
    # twelve requests without a new flagged ad: below queries never run
    assert order.index("象牙") > order.index("犀角")
    assert plan.queries[order.index("象牙")].cost == 4  # estimated from its past requests


def test_yields_on_other_sites_raise_a_query_here(lexicon: Lexicon) -> None:
    network = [r for other in ("a", "b", "c") for r in rows(other, "2025-06", 虎g=(1, 1, 1))]
    plain = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING)
    raised = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING, network=network)
    before = [q.site_query for q in plain.queries].index("虎g")
    after = [q.site_query for q in raised.queries].index("虎g")
    assert after < before and after < 60
    assert raised.queries[after].reason.startswith("never run here; other sites: 3 new flagged")
    # the site's own rows are not "other sites"
    own = plan_for_site(lexicon, site("segmented"), [], MONTH, EVERYTHING,
                        network=rows("testsite", "2025-06", 虎g=(1, 1, 1)))
    assert [q.site_query for q in own.queries].index("虎g") == before


def test_a_book_of_every_sites_yields_plans_as_the_rows_do(lexicon: Lexicon) -> None:
    from monitor.crawling.query_yields import YieldBook

    everywhere = rows("testsite", "2025-06", 象芽=(1, 2, 2), 象牙=(3, 30, 0)) + rows("other", "2025-05", 虎g=(1, 1, 1))
    everywhere += rows("other", "2025-06", 象芽=(1, 0, 0)) + rows("third", "2025-04", 白料=(2, 3, 1))
    own = [r for r in everywhere if r.site == "testsite"]
    by_rows = plan_for_site(lexicon, site("segmented"), own, MONTH, 80, network=everywhere)
    by_book = plan_for_site(lexicon, site("segmented"), (), MONTH, 80, book=YieldBook(everywhere, MONTH))
    assert by_rows.queries == by_book.queries
    first = by_book.queries[0]
    assert first.site_query == "象芽" and first.last.flagged_new == 2 and first.last.runs == 1


def test_a_separator_that_brings_ads_elsewhere_is_tried_sooner_in_other_names(lexicon: Lexicon) -> None:
    network = [YieldRecord(other, "2025-06", "象|牙", "separator", 1, 1, 1) for other in ("a", "b", "c", "d")]
    network += [YieldRecord(other, "2025-06", "象~牙", "separator", 1, 0, 0) for other in ("a", "b", "c", "d")]
    before = [q.site_query for q in plan_for_site(lexicon, site("substring"), [], MONTH, EVERYTHING).queries]
    after = [q.site_query for q in plan_for_site(lexicon, site("substring"), [], MONTH, EVERYTHING,
                                                 network=network).queries]
    assert after.index("犀|角") < before.index("犀|角")
    assert after.index("犀|角") < after.index("犀~角")  # | brought ads on other sites, ~ nothing


def test_rotation_retries_the_low_yield_queries_tried_longest_ago(lexicon: Lexicon) -> None:
    fresh = [Candidate(f"新词{n:02d}", "plain", "ivory", "象牙") for n in range(20)]
    tired = {"白塑料": "2025-02", "黑料": "2025-04", "果冻": "2025-06"}  # no new flagged ad, last run then
    candidates = fresh + [Candidate(word, "plain", "ivory", word) for word in tired]
    history = [YieldRecord("testsite", f"2025-{m:02d}", word, "plain", 1, 0, 0)
               for word, last in tired.items() for m in range(1, int(last[5:]) + 1)]
    plan = plan_for_site(lexicon, site("segmented"), history, MONTH, 10, candidates=candidates)
    main = [q for q in plan.queries if not q.rotation]
    rotated = [q for q in plan.queries if q.rotation]
    assert [q.site_query for q in main] == [c.text for c in fresh[:8]]  # never run beats tried and idle
    assert [q.site_query for q in rotated] == ["白塑料", "黑料"]  # 15 % of the budget, longest idle first
    assert rotated[0].reason.startswith("rotation: here: 0 new flagged, 0 found in 2 requests over 2 months (last 2025-02)")
    assert plan.estimated_requests == 10


def test_a_months_own_and_later_yields_do_not_change_its_plan(lexicon: Lexicon) -> None:
    before = plan_for_site(lexicon, site("segmented"), [], MONTH, 80)
    after = plan_for_site(lexicon, site("segmented"), rows("testsite", MONTH, 象芽=(1, 5, 5)), MONTH, 80)
    assert before.keywords == after.keywords


def test_category_only_site_has_no_queries(lexicon: Lexicon) -> None:
    plan = plan_for_site(lexicon, replace(site(), crawl="category"), [], MONTH, 100)
    assert plan.queries == [] and plan.keywords == []


def write_site(tmp_path: Path, extra: str, search_extra: str = "") -> Path:
    text = (shipped_sites_dir() / "tongcheng.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("  cap:")) + "\n"
    text = text.replace("search:\n", f"{extra}search:\n{search_extra}", 1)
    path = tmp_path / "tongcheng.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_site_file_says_how_its_search_matches(tmp_path: Path) -> None:
    shipped = load_site_file(shipped_sites_dir() / "tongcheng.yaml")
    assert (shipped.search_match, shipped.search_cap) == ("segmented", 100)  # as SITES.md says
    stripped = (shipped_sites_dir() / "tongcheng.yaml").read_text(encoding="utf-8")
    stripped = "\n".join(line for line in stripped.splitlines() if not line.startswith(("search_match", "  cap:")))
    (tmp_path / "plain.yaml").write_text(stripped.replace("name: tongcheng", "name: plain"), encoding="utf-8")
    assert load_site_file(tmp_path / "plain.yaml").search_match == "unknown"
    assert load_site_file(tmp_path / "plain.yaml").search_cap is None
    capped = write_site(tmp_path, "", "  cap: 60\n")
    assert load_site_file(capped).search_cap == 60


@pytest.mark.parametrize(("extra", "search_extra", "message"), [
    ("search_match: fuzzy\n", "", "tongcheng.yaml: search_match: must be one of substring, segmented, unknown"),
    ("", "  cap: 0\n", "tongcheng.yaml: search.cap: must be at least 1"),
    ("", "  cap: lots\n", "tongcheng.yaml: search.cap: expected int"),
])
def test_bad_search_match_or_cap_names_file_and_field(tmp_path: Path, extra: str, search_extra: str,
                                                      message: str) -> None:
    path = tmp_path / "tongcheng.yaml"
    text = (shipped_sites_dir() / "tongcheng.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("search_match", "  cap:")))
    path.write_text(text.replace("search:\n", f"{extra}search:\n{search_extra}", 1) + "\n", encoding="utf-8")
    with pytest.raises(SiteFileError, match=message.replace(".", r"\.")):
        load_site_file(path)
