"""The fixed exchange rates every CNY price is computed with: one table for the crawl and the report.

Monitoring compares orders of magnitude across months, so a stable published rate beats a live
one that would make the same ad change value from one month to the next. The crawl's price
parser (``monitor.crawling.parsers``) converts with it when it stores ``price_cny``, and the
report states it beside the prices it shows, so the page says which rates its figures rest on.
"""

from __future__ import annotations

# CNY per unit of each currency a marketplace prices in.
CNY_RATES: dict[str, float] = {"CNY": 1.0, "HKD": 0.92, "TWD": 0.22, "USD": 7.2, "EUR": 7.8, "MOP": 0.89}
