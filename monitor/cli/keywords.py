"""``wtm keywords``: list the lexicon, explain how one text is matched, validate a lexicon folder."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import State, pass_state
from monitor.matching import Lexicon, Matcher


def lexicon_folder(state: State) -> Path | None:
    """The configured replacement lexicon folder, or None for the shipped one."""
    folder = state.config.keywords_dir
    return Path(folder).expanduser() if folder else None


def load_matcher(state: State) -> Matcher:
    """The configured lexicon with the newest model trained in the data folder (else the shipped one)."""
    return Matcher(Lexicon.load(lexicon_folder(state)), model_dir=state.config.data_path)


@click.group("keywords")
def keywords_group() -> None:
    """Inspect and check the lexicon."""


@keywords_group.command("list")
@click.option("--species", "species", metavar="KEY", help="Only this species group (a key of species.yaml).")
@pass_state
def list_command(state: State, species: str | None) -> None:
    """Print each species group (names and legal basis from species.yaml, in its order) with its terms
    (kind and strength), search keywords and exclusions."""
    lexicon = Lexicon.load(lexicon_folder(state))
    keys = lexicon.species
    if species:
        if species not in keys:
            raise click.BadParameter(f"unknown species {species!r}; choose from {', '.join(keys)}",
                                     param_hint="--species")
        keys = [species]
    click.echo(f"lexicon {lexicon.version} ({lexicon.source})")
    for key in keys:
        entry, group = lexicon.entry(key), lexicon.group(key)
        click.echo(f"\n{key}: {entry.label}")
        click.echo(f"  names: {group.zh} / {group.en}  colour {group.colour}")
        click.echo(f"  legal basis: {group.legal_basis_en}")
        click.echo("  terms:")
        for term in entry.terms:
            strength = "strong" if term.strong else "weak"
            source = f"  [{term.source}]" if term.source else ""
            click.echo(f"    {term.term:10} {term.kind:9} {strength:6}{source}")
        click.echo(f"  search keywords ({len(entry.search_keywords)}): "
                   + " ".join(k.term for k in entry.search_keywords))
        if entry.exclusions:
            click.echo("  exclusions: " + " ".join(entry.exclusions))
        if entry.cover_terms:
            click.echo("  legal covers: " + " ".join(entry.cover_terms))
    if not species:
        click.echo(f"\n{len(lexicon.search_keywords())} search keywords in all")


@keywords_group.command("test")
@click.argument("text")
@click.option("--description", default="", help="Description text to match together with TEXT as the title.")
@pass_state
def test_command(state: State, text: str, description: str) -> None:
    """Explain how TEXT (a title) is matched: normalised form, tokens, matches, verdict."""
    matcher = load_matcher(state)
    listing = {"title": text, "description": description}
    result = matcher.match(listing)
    for name, value in listing.items():
        if not value:
            continue
        click.echo(f"{name}:")
        click.echo(f"  normalised: {matcher.normalise(value)}")
        click.echo(f"  tokens:     {' / '.join(matcher.tokens(value))}")
    click.echo("matches:")
    if not result.matches and not result.rejected:
        click.echo("  (none)")
    for m in result.matches:
        click.echo(f"  + {m.species:10} {m.term:8} {m.kind:9} {m.field}[{m.start}:{m.end}] {m.text!r} trick={m.trick}")
    for m, reason in result.rejected:
        click.echo(f"  - {m.species:10} {m.term:8} {m.kind:9} {m.field}[{m.start}:{m.end}] {m.text!r} ({reason})")
    verdict = f"FLAGGED {', '.join(result.species)}" if result.flagged else "not flagged"
    click.echo(f"verdict: {verdict} (score {result.score})")
    for key, value in result.to_dict().items():
        if key in SHOWN_KEYS:
            continue
        if isinstance(value, dict):  # the model's verdict, and what other stages add
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k}: {_shown(v)}")
        else:
            click.echo(f"{key}: {_shown(value)}")
    click.echo(f"matcher version: {matcher.version}")


# to_dict keys printed above; any other (model, product form, quantity, intent...) is printed as it comes
SHOWN_KEYS = frozenset({"flagged", "species", "score", "matches"})


def _shown(value: object) -> str:
    if isinstance(value, list) and value and all(isinstance(v, (list, tuple)) and len(v) == 2 for v in value):
        return ", ".join(f"{a} {b:+}" if isinstance(b, (int, float)) else f"{a} {b}" for a, b in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@keywords_group.command("suggest")
@click.option("--min-count", default=3, show_default=True, type=click.IntRange(1),
              help="Confirmed listings an n-gram must appear in.")
@click.option("--min-share", default=0.9, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the listings holding it that were confirmed.")
@click.option("--top", default=30, show_default=True, type=click.IntRange(1))
@click.option("--dev-set/--no-dev-set", default=True, show_default=True,
              help="Also read the checkout's labelled development set (illegal as confirmed, benign as rejected).")
@pass_state
def suggest_command(state: State, min_count: int, min_share: float, top: int, dev_set: bool) -> None:
    """List candidate code words: character n-grams frequent in confirmed listings (analysts'
    decisions in the database), rare in rejected and benign ones, that no lexicon word holds.
    Accept one by adding it as a code_word term to its species' YAML file."""
    from monitor import codewords, modeltraining

    matcher = Matcher(Lexicon.load(lexicon_folder(state)), model=None)
    examples = modeltraining.gather(modeltraining.decisions(state.config),
                                    modeltraining.DEV_SET if dev_set else None, sandbox=0)
    confirmed = [(e.title, e.description) for e in examples if e.illegal]
    benign = [(e.title, e.description) for e in examples if not e.illegal]
    found = codewords.suggest(matcher, confirmed, benign, min_count, min_share, top)
    click.echo(f"{len(confirmed)} confirmed and {len(benign)} rejected or benign listings read")
    if not found:
        click.echo("no candidate code words")
    for s in found:
        click.echo(f"  {s.ngram:8} in {s.confirmed:3} confirmed, {s.benign:3} other  e.g. {s.example}")


@keywords_group.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_state
def check_command(state: State, directory: Path | None) -> None:
    """Validate a lexicon folder (default: the configured or shipped one) and compile it.

    A bad file stops with KeywordFileError naming file, line and field (exit status 2).
    """
    lexicon = Lexicon.load(directory if directory is not None else lexicon_folder(state))
    matcher = Matcher(lexicon)
    terms = len(lexicon.terms())
    click.echo(f"OK {lexicon.source}: {len(lexicon.species)} species, {terms} terms, "
               f"{len(lexicon.search_keywords())} search keywords, {matcher.pattern_count} spellings, "
               f"version {lexicon.version}")
