"""Lexicon loading, normalisation and matching of listings against the species lexicon.

Knows nothing of Scrapy or SQL: give it text, get a verdict with evidence.
"""

from __future__ import annotations

from monitor.matching.lexicon import Lexicon, SearchKeyword, Term
from monitor.matching.matcher import MAX_FIELD_CHARS, Match, Matcher, MatchResult
from monitor.matching.species import Species, load_species, species_table

__all__ = ["MAX_FIELD_CHARS", "Lexicon", "Match", "Matcher", "MatchResult", "SearchKeyword", "Species", "Term",
           "load_species", "species_table"]
