"""What a report section is, and what its builder is handed.

A section is one entry: the context entries it computes (from the stats queries, shaped by
``reports.rows``), the template that shows them, the tables it exports and, if any, the charts it
draws. ``reports.context``, ``reports.render`` and ``reports.exports`` walk the registry, so a new
section touches none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Context = Mapping[str, Any]
Tables = dict[str, list[dict[str, Any]]]


@dataclass
class Query:
    """One report's month, language and open session; stats queries run once per report.
    ``full``: the lists the page caps are built whole (the spreadsheet exports carry every row).

    Several sections read the same query (the species order reads the trend's rows), so
    ``stat`` keeps each result for the report's duration instead of each section re-running it.
    """

    session: Any
    month: str
    lang: str
    labels: Mapping[str, str]
    data_months: list[str]
    first_month: str
    previous_month: str
    year_ago_month: str
    full: bool = False
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)

    def cap(self, limit: int) -> int | None:
        """The rows a capped list keeps: ``limit`` on the page, every row for the exports (``full``)."""
        return None if self.full else limit

    def stat(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``monitor.storage.stats.<name>(session, *args, **kwargs)``, computed once."""
        from monitor.storage import stats

        key = (name, args, tuple(sorted(kwargs.items())))
        if key not in self._cache:
            self._cache[key] = getattr(stats, name)(self.session, *args, **kwargs)
        return self._cache[key]


@dataclass(frozen=True)
class Section:
    """One part of the report.

    ``key`` is its anchor on the page; ``title`` the labels key of its heading (and its entry in
    the contents); ``template`` the partial under templates/ that shows it; ``build(query,
    context)`` returns the context entries it adds, reading only the entries named in ``needs``
    from the context built so far; ``export(context)`` returns its tables for the spreadsheets;
    ``charts(context)`` its inline SVG charts by name.
    """

    key: str
    title: str
    template: str
    build: Callable[[Query, Context], dict[str, Any]]
    export: Callable[[Context], Tables] = lambda context: {}
    needs: tuple[str, ...] = ()
    charts: Callable[[Context], dict[str, str]] | None = None
