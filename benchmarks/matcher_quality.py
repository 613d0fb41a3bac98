"""Precision, recall and species accuracy of the matcher on a labelled JSON Lines file.

    .venv/bin/python benchmarks/matcher_quality.py [FILE.jsonl] [--errors] [--keywords DIR]
    .venv/bin/python benchmarks/matcher_quality.py --sandbox   # the simulated marketplaces' truth

FILE defaults to tests/data/listings_dev.jsonl. The matcher runs with its learned second stage
(the shipped model, or the newest in --model-dir) unless --rules-only. Each line needs id, title, description, label
("illegal"/"benign"), species (list) and tricks (list); see tests/data/LABELING.md.
Prints P/R/F1 of `illegal`, species accuracy on true positives, recall per trick, the
false-positive rate on lookalike/substitute listings and results by script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "data" / "listings_dev.jsonl"


def evaluate(rows: list[dict], predictions: dict[str, tuple[bool, list[str]]]) -> dict:
    tp = fp = fn = species_ok = 0
    by_trick: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_script: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        gold = row["label"] == "illegal"
        flagged, species = predictions[row["id"]]
        tp += gold and flagged
        fp += flagged and not gold
        fn += gold and not flagged
        if gold and flagged and set(species) == set(row["species"]):
            species_ok += 1
        for trick in row.get("tricks", []):
            cell = by_trick[(row["label"], trick)]
            cell[0] += gold == flagged
            cell[1] += 1
        cell = by_script[row.get("script", "?")]
        cell[0] += gold == flagged
        cell[1] += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1,
            "species_ok": species_ok, "species_accuracy": species_ok / tp if tp else 0.0,
            "by_trick": dict(by_trick), "by_script": dict(by_script)}


def sandbox_rows(seed: int = 20120101) -> list[dict]:
    """The sandbox's labelled listings in this script's format (written by another generator,
    so a second opinion next to the development corpus)."""
    from monitor.sandbox import Sandbox

    world = Sandbox(seed=seed)
    rows, seen = [], set()
    for month in world.months[::4]:
        for r in world.truth(month):
            key = (r["title"], r["description"])
            if key in seen:
                continue
            seen.add(key)
            tricks = list(r.get("tricks") or []) or (["lookalike"] if r.get("kind") == "lookalike" else ["plain"])
            rows.append({"id": f"{r['site']}:{r['external_id']}", "title": r["title"], "description": r["description"],
                         "label": "illegal" if r["illegal"] else "benign", "species": list(r.get("species") or []),
                         "tricks": tricks, "script": r.get("script", "?")})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--errors", action="store_true", help="list every wrong listing")
    parser.add_argument("--keywords", default=None, help="lexicon folder (default: shipped)")
    parser.add_argument("--rules-only", action="store_true", help="match without the learned second stage")
    parser.add_argument("--model-dir", default=None,
                        help="data folder whose newest trained model to use (default: the shipped model)")
    parser.add_argument("--sandbox", action="store_true",
                        help="score on the listings of the simulated marketplaces (monitor.sandbox truth, "
                             "every 4th month, duplicates removed) instead of FILE")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from monitor.matching import Lexicon, Matcher

    if args.sandbox:
        rows = sandbox_rows()
        args.file = "monitor.sandbox truth"
    else:
        rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    started = time.perf_counter()
    model_dir = Path(args.model_dir) if args.model_dir else None
    matcher = Matcher(Lexicon.load(args.keywords), model=None) if args.rules_only else \
        Matcher(Lexicon.load(args.keywords), model_dir=model_dir)
    loaded = time.perf_counter() - started
    predictions = {}
    results = {}
    for row in rows:
        result = matcher.match({"title": row.get("title", ""), "description": row.get("description", "")})
        predictions[row["id"]] = (result.flagged, result.species)
        results[row["id"]] = result
    m = evaluate(rows, predictions)
    print(f"file: {args.file} ({len(rows)} listings); matcher {matcher.version}; built in {loaded:.2f} s")
    decided = [r.model["decided_by"] for r in results.values() if r.model]
    if decided:
        print("decided by: " + ", ".join(f"{who} {decided.count(who)}" for who in sorted(set(decided))))
    print(f"illegal: P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} "
          f"(tp={m['tp']} fp={m['fp']} fn={m['fn']})")
    print(f"species accuracy on true positives: {m['species_ok']}/{m['tp']} = {m['species_accuracy']:.3f}")
    print("recall per trick (illegal listings labelled right):")
    for (label, trick), (right, total) in sorted(m["by_trick"].items()):
        if label == "illegal":
            print(f"  {trick:12s} {right:3d}/{total:3d} = {right / total:.3f}")
    print("false-positive rate on benign subsets:")
    for (label, trick), (right, total) in sorted(m["by_trick"].items()):
        if label == "benign":
            print(f"  {trick:12s} {total - right:3d}/{total:3d} flagged = {(total - right) / total:.3f}")
    print("by script (labelled right):")
    for script, (right, total) in sorted(m["by_script"].items()):
        print(f"  {script:12s} {right:3d}/{total:3d} = {right / total:.3f}")
    if args.errors:
        print("errors:")
        for row in rows:
            flagged, species = predictions[row["id"]]
            gold = row["label"] == "illegal"
            if gold != flagged or (gold and set(species) != set(row["species"])):
                r = results[row["id"]]
                print(f"  {row['id']} gold={row['label']}/{row['species']} got={flagged}/{species} "
                      f"{row['tricks']} | {row['title']} | {row['description'][:80]}")
                for match in r.matches:
                    print(f"      + {match.species} {match.term} [{match.text}] {match.trick}")
                for match, reason in r.rejected:
                    print(f"      - {match.species} {match.term} [{match.text}] {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
