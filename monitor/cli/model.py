"""``wtm model``: train the matcher's learned second stage and measure it."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import State, pass_state
from monitor.cli.keywords import lexicon_folder

BLIND_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "listings_blind.jsonl"


@click.group("model")
def model_group() -> None:
    """Train and measure the matcher's learned second stage."""


def _rules_matcher(state: State):  # type: ignore[no-untyped-def]
    from monitor.matching import Lexicon, Matcher

    return Matcher(Lexicon.load(lexicon_folder(state)), model=None)


@model_group.command("train")
@click.option("--dev-set", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled JSON Lines to learn from (default: the checkout's development set, if present).")
@click.option("--sandbox", default=None, type=click.IntRange(0), metavar="N",
              help="Sandbox listings to learn from (default 1500; 0: none).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the model here (the shipped default is monitor/matching/data/default-model.npz).")
@pass_state
def train_command(state: State, dev_set: Path | None, sandbox: int | None, out_file: Path | None) -> None:
    """Fit the model on the labelled listings and every analyst decision in the database, and
    save it in the data folder's models/ (the matcher loads the newest). Never reads the blind set."""
    from monitor import modeltraining

    model, path, examples = modeltraining.train_configured(
        state.config, _rules_matcher(state), dev_set or modeltraining.DEV_SET,
        modeltraining.SANDBOX_SAMPLE if sandbox is None else sandbox)
    sources = ", ".join(f"{n} {src}" for src, n in model.meta["sources"].items())
    click.echo(f"model {model.version}: {len(model.vocabulary)} features from {len(examples)} listings ({sources})")
    click.echo(f"saved {path}")
    if out_file is not None:
        click.echo(f"saved {model.save(out_file)}")


@model_group.command("eval")
@click.option("--dev-set", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled JSON Lines to learn from (default: the checkout's development set).")
@click.option("--blind-set", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Held-out labelled JSON Lines, scored only (default: tests/data/listings_blind.jsonl).")
@click.option("--sandbox", default=None, type=click.IntRange(0), metavar="N",
              help="Sandbox listings to train on (default 1500); never in the reported figures.")
@pass_state
def eval_command(state: State, dev_set: Path | None, blind_set: Path | None, sandbox: int | None) -> None:
    """Print cross-validated precision, recall and F1 (grouped by source) by source and by kind
    of listing, rules alone against rules + model, the blind set's figures before and after
    (the model trained on everything but the blind set), and each month's estimated miss rate."""
    from monitor import modeleval, modeltraining

    matcher = _rules_matcher(state)
    examples = modeltraining.gather(modeltraining.decisions(state.config), dev_set or modeltraining.DEV_SET,
                                    modeltraining.SANDBOX_SAMPLE if sandbox is None else sandbox)
    ev = modeltraining.read_evidence(matcher, examples)
    order = matcher.lexicon.species
    rules = [(r.flagged, list(r.species)) for r in ev.results]
    both = modeleval.cross_validated(examples, ev, order)
    for key, title in (("source", "by source"), ("kind", "by kind of listing")):
        click.echo(f"cross-validated ({modeleval.FOLDS} folds grouped by source; sandbox trained on, not reported), {title}:")
        before, after = modeleval.tally(examples, rules, key), modeleval.tally(examples, both, key)
        for name in sorted(after):
            show = (lambda f: f.line()) if key == "source" else (lambda f: f.kind_line())
            click.echo(f"  {name:24} rules         {show(before[name])}")
            click.echo(f"  {'':24} rules + model {show(after[name])}")
    blind = blind_set or BLIND_SET
    if not Path(blind).exists():
        click.echo(f"blind set {blind} not found: no held-out figures")
    else:
        model = modeltraining.fit(examples, ev.tokens)
        before_b, after_b = modeleval.blind_figures(matcher, model, modeltraining.read_labelled(blind, "blind"))
        click.echo(f"blind set {blind}:")
        click.echo(f"  rules         {before_b.line()}")
        click.echo(f"  rules + model {after_b.line()}")
    click.echo("misses (analysts' verdicts on each month's random sample of unflagged listings, weighted by site; "
               "Wilson 95 % interval):")
    for line in modeleval.miss_lines(state.config):
        click.echo(line)
