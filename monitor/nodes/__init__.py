"""Crawling on many machines: Scrapyd nodes run one job per site, writing into one PostgreSQL.

``egg`` builds the small egg that names the Scrapy project, ``scrapyd`` speaks Scrapyd's HTTP
API, ``deploy`` puts the egg on every node, ``coordinator`` spreads a crawl over the nodes and
survives a node's death, ``loader`` is the node side (the spider loader a job runs with; it
imports none of the others, so a node needs no HTTP client).
"""
