"""Scrapyd's HTTP API, the calls wtm needs (daemonstatus, addversion, listversions, schedule,
listjobs, cancel), with the node's basic-auth credentials taken from its URL and never shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from monitor.config import mask_url
from monitor.exceptions import CrawlError, NodeUnreachable

__all__ = ["NodeUnreachable", "ScrapydNode"]


@dataclass
class ScrapydNode:
    """One Scrapyd node. ``url`` may hold ``user:password@``; ``name`` is it masked."""

    url: str
    timeout: float = 10.0
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return mask_url(self.url)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            parts = urlsplit(self.url)
            auth = (parts.username or "", parts.password or "") if parts.username else None
            base = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", "", "", ""))
            self._client = httpx.Client(base_url=base, auth=auth, timeout=self.timeout, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; NodeUnreachable when the node does not answer, CrawlError when Scrapyd
        says the call failed (its message, which names no secret of ours)."""
        try:
            response = self.client.request(method, f"/{endpoint}", **kwargs)
        except httpx.HTTPError as exc:
            raise NodeUnreachable(f"Scrapyd node {self.name}: {endpoint}: {type(exc).__name__}: {exc}") from None
        if response.status_code == 401:
            raise CrawlError(f"Scrapyd node {self.name}: {endpoint}: refused our credentials (HTTP 401)")
        try:
            body = response.json()
        except ValueError:
            raise NodeUnreachable(f"Scrapyd node {self.name}: {endpoint}: HTTP {response.status_code}, not Scrapyd's JSON") from None
        if body.get("status") != "ok":
            message = str(body.get("message", body)).strip().splitlines() or [""]
            raise CrawlError(f"Scrapyd node {self.name}: {endpoint}: {message[-1]}")  # a traceback's last line
        return body

    def status(self) -> dict[str, Any]:
        return self.call("GET", "daemonstatus.json")

    def versions(self, project: str) -> list[str]:
        try:
            return list(self.call("GET", "listversions.json", params={"project": project})["versions"])
        except NodeUnreachable:
            raise
        except CrawlError:
            return []

    def add_version(self, project: str, version: str, egg: bytes) -> dict[str, Any]:
        return self.call("POST", "addversion.json", data={"project": project, "version": version},
                         files={"egg": (f"{project}-{version}.egg", egg)}, timeout=max(self.timeout, 120.0))

    def schedule(self, project: str, spider: str, version: str, settings: dict[str, str], jobid: str,
                 args: dict[str, str] | None = None) -> str:
        """``settings`` and ``args`` are visible to anyone who can list the node's jobs: no secrets."""
        data: dict[str, Any] = {**(args or {}), "project": project, "spider": spider, "_version": version,
                                "jobid": jobid, "setting": [f"{k}={v}" for k, v in settings.items()]}
        return str(self.call("POST", "schedule.json", data=data, timeout=max(self.timeout, 120.0))["jobid"])

    def jobs(self, project: str) -> dict[str, str]:
        """Each known job's state: pending, running or finished."""
        body = self.call("GET", "listjobs.json", params={"project": project})
        return {job["id"]: state for state in ("pending", "running", "finished") for job in body.get(state, [])}

    def cancel(self, project: str, jobid: str) -> None:
        self.call("POST", "cancel.json", data={"project": project, "job": jobid})

    def log_url(self, project: str, spider: str, jobid: str) -> str:
        return f"{self.name.rstrip('/')}/logs/{project}/{spider}/{jobid}.log"
