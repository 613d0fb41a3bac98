"""Where a site's crawl may go: its scopes (scheme, host, port, path prefix) and the
addresses its host names may resolve to. Pure Python, so the site loader, ``wtm sites
check`` and the Scrapy components share one rule.

A scraped page is hostile input: a link or redirect to ``file:///``, to the cloud metadata
address or to another host must be refused before any I/O. All sandbox sites share one
origin, so a host rule alone cannot separate them; the path prefix does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import unquote, urlsplit

__all__ = ["Scope", "SiteScope", "OFFSITE", "REFUSED_SCHEME", "BLOCKED_ADDRESS", "is_local_host",
           "parse_scope", "refused_address"]

# Fault names, as counted in crawl health (``wtm/errors/<name>``).
REFUSED_SCHEME = "refused_scheme"
OFFSITE = "offsite"
BLOCKED_ADDRESS = "blocked_address"

WEB_SCHEMES = ("http", "https")
_DEFAULT_PORT = {"http": 80, "https": 443}
# Fetched by Scrapy's RobotsTxtMiddleware at the origin's root, outside any path prefix.
ROBOTS_PATH = "/robots.txt"


@dataclass(frozen=True)
class Scope:
    """One place a crawl may fetch from; ``schemes`` empty means http and https."""

    host: str
    port: int | None  # None: the scheme's default port
    path_prefix: str = "/"
    schemes: tuple[str, ...] = WEB_SCHEMES

    def allows(self, scheme: str, host: str, port: int, path: str) -> bool:
        if scheme not in self.schemes or host != self.host:
            return False
        if (self.port or _DEFAULT_PORT[scheme]) != port:
            return False
        return path == ROBOTS_PATH or (path + "/").startswith(self.path_prefix) or path.startswith(self.path_prefix)


def parse_scope(text: str) -> Scope:
    """``https://api.example.com/v1/`` (that scheme, host, port and path) or a bare
    ``img.example.com[:port]`` (http and https, any path). Raises ValueError naming the problem."""
    text = text.strip()
    if not text:
        raise ValueError("empty host")
    if "://" not in text:
        parts = urlsplit("//" + text)
        if parts.path not in ("", "/") or parts.query or not parts.hostname:
            raise ValueError(f"expected a host name or a URL, got {text!r}")
        return Scope(_host(parts.hostname), _port(parts), "/")
    parts = urlsplit(text)
    if parts.scheme not in WEB_SCHEMES:
        raise ValueError(f"only http and https may be crawled, got {text!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {text!r}")
    prefix = parts.path or "/"
    return Scope(_host(parts.hostname), _port(parts), prefix, (parts.scheme,))


def _port(parts: object) -> int | None:
    try:
        return parts.port  # type: ignore[attr-defined, no-any-return]
    except ValueError as exc:
        raise ValueError(f"bad port: {exc}") from None


def _host(name: str) -> str:
    return name.lower().rstrip(".")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refused_address(address: str) -> bool:
    """True for an address no public marketplace lives at: private, loopback, link-local
    (169.254.169.254, the cloud metadata service), multicast, reserved or unspecified."""
    ip = _address(address)
    if ip is None:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


def is_local_host(host: str) -> bool:
    """A base URL's host that is itself local (the sandbox on 127.0.0.1, ``localhost``):
    only such a site may reach non-public addresses."""
    host = _host(host)
    return host == "localhost" or (_address(host) is not None and refused_address(host))


class SiteScope:
    """Every scope of one site: its base URL's (scheme, host, port, path prefix) plus the
    site file's ``hosts``. ``refusal(url)`` names why a URL is out, or returns ""."""

    def __init__(self, base_url: str, extra: Iterable[Scope] = ()) -> None:
        base = urlsplit(base_url)
        if base.scheme not in WEB_SCHEMES or not base.hostname:
            raise ValueError(f"base URL {base_url!r} is not an http(s) URL")
        prefix = base.path if base.path.endswith("/") else base.path.rsplit("/", 1)[0] + "/"
        self.base_host = _host(base.hostname)
        # An http site may move to https on the same host; an https one may not fall back.
        schemes = WEB_SCHEMES if base.scheme == "http" else ("https",)
        self.scopes = (Scope(self.base_host, base.port, prefix or "/", schemes), *extra)
        self.local = is_local_host(self.base_host)

    @property
    def hosts(self) -> list[str]:
        """Host names for Scrapy's ``allowed_domains``."""
        return sorted({s.host for s in self.scopes})

    def refusal(self, url: str) -> str:
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme not in WEB_SCHEMES:
                return REFUSED_SCHEME
            host = _host(parts.hostname or "")
            port = parts.port or _DEFAULT_PORT[scheme]
        except ValueError:  # a malformed port or IPv6 literal
            return OFFSITE
        path = parts.path or "/"
        if any(segment in (".", "..") for segment in unquote(path).split("/")):
            return OFFSITE  # a dot segment could climb out of the path prefix on the server
        if not host or not any(s.allows(scheme, host, port, path) for s in self.scopes):
            return OFFSITE
        if _address(host) is not None and refused_address(host) and not self.local:
            return BLOCKED_ADDRESS
        return ""
