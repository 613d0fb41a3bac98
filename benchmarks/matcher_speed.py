"""Throughput of the whole matcher against a plain Aho-Corasick scan, and its load time.

    .venv/bin/python benchmarks/matcher_speed.py [--listings 20000] [--repeat 3] [--seed 7] [--dense 50000]

Generates listings of about 200 characters (title + description) from ordinary marketplace
phrases; about 5 % carry a species term, written plain or disguised (Traditional, separators,
pinyin, homophones, code words), and about 3 % carry innocent look-alikes (象牙白, 豹纹...).
Prints listings/s for Matcher.match (normalisation and the learned model included; also with the
rules alone) and, on the same texts in the same run, for a bare pyahocorasick scan of the raw
text for the lexicon's terms: the exact-matching ceiling. Two mixes: the 5 %-candidate mix of a
whole site, and a candidate-heavy one (60 % species phrases, 35 % look-alikes) like a crawl's
search results, which nearly all carry a lexicon term. Also prints how long the lexicon and the matcher (jieba included) take to load,
with the compiled-pattern cache warm and cold. One process, one core; the matchers, once built,
are frozen out of the cycle collector (``gc.freeze()``), as the crawl's pipeline does.

Last, the worst case: one page packed with lexicon terms and look-alikes (``--dense`` characters
and four times as many, every character read), whose matching time must grow in proportion to
its length, and a 5-million-character description, of which the matcher reads its per-field cap.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FILLER = [
    "全新未拆封", "九成新", "自用闲置", "同城面交", "顺丰包邮", "支持验货", "价格可议", "诚心要的联系",
    "品相如图", "尺寸见图", "老客户优先", "量大从优", "工厂直销", "正品保证", "七天无理由", "可开发票",
    "搬家急出", "手工制作", "经典款式", "颜色好看", "做工精细", "质量很好", "送朋友合适", "实物拍摄",
    "和田玉籽料", "小叶紫檀手串", "黄花梨笔筒", "蜜蜡吊坠", "南红玛瑙", "翡翠手镯", "沉香木摆件", "普洱茶饼",
    "紫砂壶", "青花瓷盘", "铜香炉", "红木茶台", "二手手机", "单反相机", "山地自行车", "儿童书包", "羊绒围巾",
    "实木餐桌", "真皮沙发", "电动牙刷", "蓝牙耳机", "机械键盘", "茶叶礼盒", "老银手镯", "水晶球", "菩提子念珠",
    "圈口56", "直径12mm", "重约80克", "高约15厘米", "长2米", "一共三件", "108颗", "原装盒子",
]
SPECIES_PHRASES = [
    "象牙手镯", "象 牙 吊坠", "象ya平安扣", "xiang牙把件", "象牙雕刻摆件", "白塑料手串 网格纹", "象牙筷子",
    "犀角杯", "犀/角 粉", "XN角手串", "犀牛角片", "希角手镯 竹丝纹", "黑料手串 鱼籽纹", "犀角",
    "玳瑁手镯", "玳 瑁 梳", "带帽手镯", "十三鳞扇子", "鹤顶红吊坠", "鶴頂紅掛件", "鹤丁红手牌", "盔犀鸟头骨",
    "虎骨酒", "虎 骨 粉", "hu骨酒", "老虎牙吊坠", "羚羊角丝", "灵羊角粉", "LYJ片", "穿山甲片", "炮山甲",
    "川山甲片 下奶", "豹骨酒", "金钱豹皮", "猛犸象牙 纯白无皮 新料", "象牙手鐲", "犀角手珠 魚子紋",
]
LOOKALIKES = [
    "象牙白乳胶漆", "象牙色婚纱", "豹纹连衣裙", "玳瑁色眼镜框", "虎皮青椒", "象牙塔", "毛绒穿山甲玩具",
    "鹤顶红金鱼", "虎牙直播", "象牙果手串", "白塑料收纳盒", "广角镜头",
]


# (share with a species phrase, share with a look-alike): the 5 %-candidate mix of a whole site,
# and a crawl's search results, which nearly all carry a lexicon term
MIXES = {"5%-candidate": (0.05, 0.03), "candidate-heavy": (0.60, 0.35)}


def generate(n: int, seed: int, species_share: float = 0.05, lookalike_share: float = 0.03) -> list[dict[str, str]]:
    rng = random.Random(seed)
    listings = []
    for i in range(n):
        roll = rng.random()
        words = [rng.choice(FILLER) for _ in range(4)]
        title = " ".join(words[:2])
        description = "，".join(words[2:])
        while len(title) + len(description) < 190:
            description += "，" + rng.choice(FILLER)
        if roll < species_share:
            phrase = rng.choice(SPECIES_PHRASES)
            if rng.random() < 0.5:
                title = phrase + " " + title
            else:
                cut = rng.randrange(len(description))
                description = description[:cut] + phrase + description[cut:]
        elif roll < species_share + lookalike_share:
            description = rng.choice(LOOKALIKES) + "，" + description
        listings.append({"title": title, "description": description[: 200 - len(title) + 10]})
    return listings


DENSE_UNIT = (
    "象牙手镯 老料 犀角杯 玳瑁 虎骨 象牙白 豹纹 穿山甲片 鹤顶红 羚羊角 毛绒 仿 不是犀角 《象牙塔》 "
    "猛犸象牙 过审 白塑料 和田玉白料 圈口56 50克 手串 象 牙 吊坠 XN角手串 带帽手镯 豹纹连衣裙 "
)


def dense_text(chars: int) -> str:
    """A page stuffed with terms of every species, disguises, covers and innocent look-alikes."""
    return (DENSE_UNIT * (chars // len(DENSE_UNIT) + 1))[:chars]


def dense_cpu(matcher, chars: int) -> tuple[float, int]:
    """CPU seconds to match one dense page of ``chars`` characters, and its number of hits."""
    listing = {"title": "老料", "description": dense_text(chars)}
    start = time.process_time()
    result = matcher.match(listing)
    return time.process_time() - start, len(result.matches) + len(result.rejected)


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per run. On a shared machine the CPU time is the fairer
    one-core figure: it leaves out the time other processes held the core."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


_LOAD = (
    "import time; t = time.perf_counter(); "
    "from monitor.matching import Lexicon, Matcher; Matcher(Lexicon.load()); "
    "print(time.perf_counter() - t)"
)


def fresh_process_load(home: str | None = None) -> float:
    """Seconds to import the matcher and build Lexicon + Matcher in a new interpreter."""
    env = dict(os.environ)
    if home is not None:
        env["HOME"] = home  # an empty home means an empty compiled-pattern cache
    out = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, env=env,
                         cwd=str(ROOT), check=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure_mix(mix: str, listings: list[dict[str, str]], matcher, rules_only, automaton, args) -> None:
    """Listings/s of the matcher with its model, with the rules alone, and of a bare AC scan."""
    n = len(listings)
    chars = sum(len(x["title"]) + len(x["description"]) for x in listings)
    with_candidate = sum(rules_only.rules_evidence(x)[2] != "none" for x in listings)

    def ac_scan() -> int:
        hits = 0
        for x in listings:
            for _ in automaton.iter(x["title"] + "\n" + x["description"]):
                hits += 1
        return hits

    flagged = [0]

    def match_all(m) -> None:
        count = 0
        for x in listings:
            count += m.match(x).flagged
        flagged[0] = count

    match_all(matcher)  # warm-up
    ac_runs, ac_cpu = timed(ac_scan, args.repeat)
    rules_runs, rules_cpu = timed(lambda: match_all(rules_only), args.repeat)
    match_runs, match_cpu = timed(lambda: match_all(matcher), args.repeat)
    ac_rate, match_rate = n / statistics.median(ac_runs), n / statistics.median(match_runs)
    rules_rate = n / statistics.median(rules_runs)
    print(f"\n{mix} mix: {n} listings, {chars / n:.0f} characters each on average, seed {args.seed}; "
          f"{with_candidate / n:.0%} with rule evidence")
    print(f"  plain pyahocorasick scan of raw text (ceiling): {ac_rate:,.0f} listings/s")
    print(f"  whole matcher with its model: {match_rate:,.0f} listings/s, {1e6 / match_rate:.0f} us/listing "
          f"(runs {', '.join(f'{r:.2f}' for r in match_runs)} s); rules alone {rules_rate:,.0f} listings/s")
    print(f"  per CPU second (one core, other processes' time left out): with model "
          f"{n / statistics.median(match_cpu):,.0f} listings/s, rules alone {n / statistics.median(rules_cpu):,.0f}, "
          f"AC ceiling {n / statistics.median(ac_cpu):,.0f}")
    print(f"  matcher / AC ceiling: {match_rate / ac_rate:.1%}; flagged {flagged[0]} of {n} ({flagged[0] / n:.1%})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dense", type=int, default=50_000, metavar="CHARS",
                        help="size of the smaller dense page (0: skip the dense-page figures)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    started = time.perf_counter()
    from monitor.matching import Lexicon, Matcher
    lexicon = Lexicon.load()
    lexicon_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as cold_dir:
        start = time.perf_counter()
        Matcher(lexicon, cache_dir=Path(cold_dir))
        cold_s = time.perf_counter() - start
    start = time.perf_counter()
    matcher = Matcher(lexicon)  # builds the user cache if missing
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    matcher = Matcher(lexicon)
    warm_s = time.perf_counter() - start

    import ahocorasick

    from monitor.matching.model import SHIPPED, Model

    start = time.perf_counter()
    model = Model.load(SHIPPED)
    model_s = time.perf_counter() - start
    rules_only = Matcher(lexicon, model=None)
    automaton = ahocorasick.Automaton()
    for term in {t.term for t in lexicon.terms()}:
        automaton.add_word(term, term)
    automaton.make_automaton()
    # As the crawl runs it (monitor.crawling.pipelines.shared_matcher): the matcher's hundreds of
    # thousands of long-lived objects frozen out of the cycle collector once built.
    gc.collect()
    gc.freeze()
    print(f"lexicon: {len(lexicon.terms())} terms -> {matcher.pattern_count} spellings; version {lexicon.version}")
    print(f"model: {model.version}, {len(model.vocabulary)} features; loads in {model_s * 1000:.1f} ms "
          f"(part of Matcher() below)")
    fresh_warm = sorted(fresh_process_load() for _ in range(3))[1]
    with tempfile.TemporaryDirectory() as home:
        fresh_cold = fresh_process_load(home)
    print(f"load in a fresh process (imports + Lexicon.load + Matcher, jieba and model included): "
          f"{fresh_warm:.2f} s with the compiled cache, {fresh_cold:.2f} s with an empty cache")
    print(f"load in this process: Lexicon.load {lexicon_s:.2f} s (imports included); Matcher() {warm_s:.2f} s "
          f"warm, {first_s:.2f} s first, {cold_s:.2f} s compiling into an empty cache")
    for mix, (species_share, lookalike_share) in MIXES.items():
        listings = generate(args.listings, args.seed, species_share, lookalike_share)
        measure_mix(mix, listings, matcher, rules_only, automaton, args)
    if args.dense:
        from monitor.matching import MAX_FIELD_CHARS

        unbounded = Matcher(lexicon, max_field_chars=None)
        unbounded.match({"title": "老料", "description": dense_text(2000)})  # warm up
        small_s, small_hits = dense_cpu(unbounded, args.dense)
        large_s, large_hits = dense_cpu(unbounded, 4 * args.dense)
        print(f"dense page, every character read: {args.dense:,} chars {small_s:.2f} s ({small_hits:,} hits), "
              f"{4 * args.dense:,} chars {large_s:.2f} s ({large_hits:,} hits): 4x the text took "
              f"{large_s / max(small_s, 1e-9):.1f}x the CPU time (linear 4x, quadratic 16x)")
        huge_s, _ = dense_cpu(matcher, 5_000_000)
        print(f"dense 5,000,000-char description, default cap of {MAX_FIELD_CHARS:,} chars per field: {huge_s:.2f} s")
    try:
        print(f"machine load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
