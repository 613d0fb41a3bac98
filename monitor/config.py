"""The monitor's configuration: one table of settings, layered from defaults, wtm.toml,
WTM_* environment variables and CLI flags (later layers win).

Only this module reads the environment; everything else receives a ``Config``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.exceptions import ConfigError


@dataclass(frozen=True)
class Setting:
    """One key of wtm.toml. Numbers must be finite and lie in ``low``..``high`` (either may be
    None: unbounded); ``low_open`` makes ``low`` itself invalid (a value must exceed it)."""

    name: str
    default: Any
    help: str
    kind: type = str
    secret: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def range_text(self) -> str:
        """The allowed range in words, e.g. "greater than 0 and at most 3600"."""
        parts = []
        if self.low is not None:
            parts.append(f"greater than {self.low:g}" if self.low_open else f"at least {self.low:g}")
        if self.high is not None:
            parts.append(f"at most {self.high:g}")
        return " and ".join(parts)


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "wtm-data", "Folder for the database, evidence, reports, logs and crawl state."),
    Setting("database_url", "", "SQLAlchemy URL; empty means a SQLite file wtm.sqlite3 in data_dir.", secret=True),
    Setting("sites", [], "Site names to crawl; empty means every site definition shipped or added.", list),
    Setting("sites_dir", "", "Extra folder of site definition YAML files, read after the shipped ones."),
    Setting("keywords_dir", "", "Folder of lexicon files replacing the shipped keywords/ folder."),
    Setting("sandbox_url", "", "Origin of the simulated marketplaces, substituted for {sandbox} in site base URLs."),
    Setting("schedule", "0 2 1 * *", "Cron expression (minute hour day month weekday) of the monthly run."),
    Setting("timezone", "Asia/Shanghai", "Time zone the schedule and report months are read in."),
    Setting("contact", "", "E-mail or URL put in the User-Agent so site operators can reach you."),
    Setting("obey_robots", True, "Obey robots.txt.", bool),
    Setting("download_delay", 1.0, "Seconds between requests to one site (0 to 3600).", float, low=0, high=3600),
    Setting("concurrency_per_site", 2, "Requests in flight per site (1 to 64).", int, low=1, high=64),
    Setting("autothrottle", True, "Adapt the delay to each site's latency (Scrapy AutoThrottle).", bool),
    Setting("max_pages_per_site", 5000, "Stop a site's crawl after this many pages (at least 1).", int, low=1),
    Setting("requests_per_site", 270, "Requests per site and monthly crawl (search, browse, listing and revisit "
            "pages; at least 3): the query plan gets what the site's last crawl spent on the rest left over, the "
            "crawl stops searching when the site reaches it.", int, low=3),
    Setting("download_timeout", 30.0, "Seconds before a request times out (more than 0, at most 3600).", float,
            low=0, high=3600, low_open=True),
    Setting("retry_times", 3, "Retries for a failed request (5xx, 429, timeouts; 0 to 20).", int, low=0, high=20),
    Setting("db_busy_timeout", 10.0, "Seconds to wait for a SQLite database another process holds locked (0 to 600).",
            float, low=0, high=600),
    Setting("log_level", "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting("scrapyd_urls", [], "Scrapyd nodes (http://[user:password@]host:port) that run the crawl's jobs; empty "
            "means crawl on this machine. Needs PostgreSQL.", list, secret=True),
    Setting("serve_port", 8765, "Port of the analyst's workbench, `wtm serve` (1 to 65535).", int, low=1, high=65535),
    Setting("analyst", "", "Name recorded with the workbench's review decisions when no password is set."),
    Setting("serve_password_hash", "", "Hash of the workbench password (`wtm serve --hash-password`); required "
            "to bind `wtm serve` to anything but loopback.", secret=True),
)

_BY_NAME = {s.name: s for s in SETTINGS}
ENV_PREFIX = "WTM_"
DEFAULT_CONFIG_FILE = "wtm.toml"


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    """Turn a raw value into the setting's type, naming ``origin`` when it cannot."""
    kind = setting.kind
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if kind is list:
            if isinstance(value, str):
                return [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return list(value)
            raise ValueError(f"expected a list of strings, got {value!r}")
        if kind in (int, float):
            return _in_range(setting, _number(kind, value))
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {setting.name}: {exc}") from None


def _number(kind: type, value: Any) -> int | float:
    """``value`` (a TOML number, or text from the environment or a flag) as a finite ``kind``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    if kind is float:
        return float(number)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _in_range(setting: Setting, number: int | float) -> int | float:
    too_low = setting.low is not None and (number <= setting.low if setting.low_open else number < setting.low)
    too_high = setting.high is not None and number > setting.high
    if too_low or too_high:
        raise ValueError(f"must be {setting.range_text()}, got {number!r}")
    return number


@dataclass(frozen=True)
class Config:
    """The effective configuration; build it with ``load_config``."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    config_file: Path | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).expanduser().resolve()

    @property
    def db_url(self) -> str:
        if self.values["database_url"]:
            return self.values["database_url"]
        return f"sqlite:///{self.data_path / 'wtm.sqlite3'}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.values["timezone"])

    @property
    def user_agent(self) -> str:
        from monitor import __version__

        contact = self.values["contact"] or "no contact configured"
        return f"wildlife-trade-monitor/{__version__} (+{contact})"

    def replace(self, **overrides: Any) -> "Config":
        """A copy with ``overrides`` applied as the CLI layer."""
        return _layer(self, overrides, "command line")

    def masked(self) -> dict[str, Any]:
        """The values with secrets (passwords in URLs) hidden, for display."""
        shown = dict(self.values)
        for setting in SETTINGS:
            value = shown.get(setting.name)
            if setting.secret and isinstance(value, str) and value:
                shown[setting.name] = mask_url(value) if "://" in value else _MASK
            elif setting.secret and isinstance(value, list):
                shown[setting.name] = [mask_url(v) for v in value]
        return shown


# Query parameters whose values are hidden wherever a URL is shown (?password=, ?sslpassword=,
# ?api_key=, ?token=, ...).
_SECRET_PARAM = re.compile(r"pass|secret|token|key|pwd|auth", re.IGNORECASE)
_MASK = "***"
_PLACEHOLDER = "wtmmaskedwtm"  # survives URL quoting, unlike "***"
# In free text (a URL SQLAlchemy cannot parse, a driver's message) a URL ends at a quote or a space.
_USERINFO = re.compile(r"(?P<head>://[^/?#@\s:'\"]*:)[^/?#\s'\"]*@")
_QUERY_SECRET = re.compile(r"(?P<head>[?&;](?P<name>[^=&;#\s'\"]*)=)(?P<value>[^&;#\s'\"]*)")


def mask_url(url: str) -> str:
    """``url`` for display: its password and every secret-looking query parameter as ``***``.

    The one place URLs are masked: ``config show``, ``db status``, error messages and logs
    all show a database URL through this. A URL SQLAlchemy cannot parse is masked as text.
    """
    if not url:
        return url
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        query = {k: (_PLACEHOLDER if _SECRET_PARAM.search(k) else v) for k, v in parsed.query.items()}
        shown = parsed.set(query=query).render_as_string(hide_password=True)
    except Exception:  # ArgumentError, or ValueError for a port that is not a number
        return _mask_text(url)
    return shown.replace(_PLACEHOLDER, _MASK)


def _mask_text(text: str) -> str:
    text = _USERINFO.sub(lambda m: m.group("head") + _MASK + "@", text)
    return _QUERY_SECRET.sub(
        lambda m: m.group("head") + (_MASK if _SECRET_PARAM.search(m.group("name")) else m.group("value")), text
    )


def redact(text: str, url: str | None = None) -> str:
    """``text`` (an error message, say) with the secrets of ``url`` and of any URL in it masked."""
    if url:
        for secret in _secrets_of(url):
            text = text.replace(secret, _MASK)
        text = text.replace(url, mask_url(url))
    return _mask_text(text)


def _secrets_of(url: str) -> list[str]:
    from urllib.parse import unquote

    secrets = [m.group(0)[3:-1].split(":", 1)[1] for m in _USERINFO.finditer(url)]
    secrets += [m.group("value") for m in _QUERY_SECRET.finditer(url) if _SECRET_PARAM.search(m.group("name"))]
    secrets = [s for s in secrets if s]
    secrets += [unquote(s) for s in secrets]
    return sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)


def cron_trigger(expression: str, tz: Any) -> Any:
    """The APScheduler trigger of a 5-field cron ``expression`` in ``tz``, as the scheduler
    uses it; ValueError if it does not parse or never fires (``0 2 31 2 *``)."""
    from datetime import datetime

    from apscheduler.triggers.cron import CronTrigger

    if len(str(expression).split()) != 5:
        raise ValueError(f"expected 5 cron fields (minute hour day month weekday), got {expression!r}")
    try:
        trigger = CronTrigger.from_crontab(expression, timezone=tz)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid cron expression (minute hour day month weekday) {expression!r}: {exc}") from None
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        raise ValueError(f"cron expression {expression!r} never fires (no such date)")
    return trigger


def _layer(config: Config, raw: Mapping[str, Any], origin: str) -> Config:
    values = dict(config.values)
    sources = dict(config.sources)
    for name, value in raw.items():
        if value is None:
            continue
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{origin}: unknown setting {name!r}; known: {', '.join(sorted(_BY_NAME))}")
        values[name] = _coerce(setting, value, origin)
        sources[name] = origin
    _validate(values, sources, set(raw) & set(_BY_NAME))
    return Config(values=values, sources=sources, config_file=config.config_file)


def _validate(values: Mapping[str, Any], sources: Mapping[str, str], changed: set[str]) -> None:
    """Check what the newest layer set (``changed``), naming where each value came from."""
    try:
        tz = ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{sources['timezone']}: timezone: unknown time zone {values['timezone']!r}") from None
    if changed & {"schedule", "timezone"}:
        try:
            cron_trigger(values["schedule"], tz)
        except ValueError as exc:
            raise ConfigError(f"{sources['schedule']}: schedule: {exc}") from None
    if values["log_level"].upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(
            f"{sources['log_level']}: log_level: expected DEBUG, INFO, WARNING or ERROR, got {values['log_level']!r}"
        )
    if "database_url" in changed and values["database_url"]:
        from sqlalchemy.engine import make_url

        try:
            make_url(values["database_url"])
        except Exception:  # ArgumentError, or ValueError for a port that is not a number
            raise ConfigError(
                f"{sources['database_url']}: database_url: not a database URL: {mask_url(values['database_url'])!r}"
            ) from None
    if "scrapyd_urls" in changed:
        _check_node_urls(values["scrapyd_urls"], sources["scrapyd_urls"])


def _check_node_urls(urls: list[str], origin: str) -> None:
    """Each Scrapyd node is an http(s) origin with a host and a port (credentials optional)."""
    from urllib.parse import urlsplit

    for url in urls:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or port is None \
                or parts.path.strip("/") or parts.query:
            raise ConfigError(f"{origin}: scrapyd_urls: expected http(s)://[user:password@]host:port, "
                              f"got {mask_url(url)!r}")


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the effective configuration.

    The file is ``path``, else ``$WTM_CONFIG``, else ``./wtm.toml`` if it exists.
    A file named explicitly must exist.
    """
    env = os.environ if environ is None else environ
    config = Config(values={s.name: s.default for s in SETTINGS}, sources={s.name: "default" for s in SETTINGS})
    explicit = path or env.get("WTM_CONFIG")
    file = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if explicit and not file.is_file():
        raise ConfigError(f"{file}: configuration file not found")
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        raw = raw.get("wtm", raw)
        config = _layer(config, raw, str(file))
        config = Config(values=config.values, sources=config.sources, config_file=file.resolve())
    from_env = {s.name: env[ENV_PREFIX + s.name.upper()] for s in SETTINGS if ENV_PREFIX + s.name.upper() in env}
    if from_env:
        config = _layer(config, from_env, "environment")
    if overrides:
        config = _layer(config, overrides, "command line")
    return config

