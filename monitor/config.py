"""The monitor's configuration: one table of settings, layered from defaults, wtm.toml,
WTM_* environment variables and CLI flags (later layers win).

Only this module reads the environment; everything else receives a ``Config``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.exceptions import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str
    secret: bool = False


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
    Setting("download_delay", 1.0, "Seconds between requests to one site.", float),
    Setting("concurrency_per_site", 2, "Requests in flight per site.", int),
    Setting("autothrottle", True, "Adapt the delay to each site's latency (Scrapy AutoThrottle).", bool),
    Setting("max_pages_per_site", 5000, "Stop a site's crawl after this many pages.", int),
    Setting("download_timeout", 30.0, "Seconds before a request times out.", float),
    Setting("retry_times", 3, "Retries for a failed request (5xx, 429, timeouts).", int),
    Setting("log_level", "INFO", "DEBUG, INFO, WARNING or ERROR."),
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
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got {value!r}")
            number = kind(value)
            if number < 0:
                raise ValueError(f"must not be negative, got {value!r}")
            return number
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {setting.name}: {exc}") from None


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
                shown[setting.name] = _mask_url(value)
        return shown


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else url


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
    _validate(values, origin)
    return Config(values=values, sources=sources, config_file=config.config_file)


def _validate(values: Mapping[str, Any], origin: str) -> None:
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{origin}: timezone: unknown time zone {values['timezone']!r}") from None
    fields = str(values["schedule"]).split()
    if len(fields) != 5:
        raise ConfigError(
            f"{origin}: schedule: expected 5 cron fields (minute hour day month weekday), got {values['schedule']!r}"
        )
    if values["log_level"].upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"{origin}: log_level: expected DEBUG, INFO, WARNING or ERROR, got {values['log_level']!r}")


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

