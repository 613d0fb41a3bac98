"""The analyst's workbench: a local web application (``wtm serve``) to triage flags, read the
stored evidence inert, follow dealers, watch crawl health and search every listing."""

from monitor.workbench.app import create_app

__all__ = ["create_app"]
