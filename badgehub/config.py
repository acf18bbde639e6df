"""Configuration: defaults, and the ``BADGEHUB_*`` environment read by the app factory.

Nothing here runs at import time except the declaration of defaults: the environment is read by
:func:`load_config`, called from ``create_app``, so tests and the CLI can build apps side by side.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.dates import get_timezone

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def bundled(name: str) -> Path:
    """The folder ``templates`` or ``migrations``: inside the installed package (a wheel carries them as
    ``badgehub/<name>``, see setup.py), else at the top of the source checkout, where they are kept."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else REPO_ROOT / name

CONFIG_FILE_NAME = "badgehub.cfg"
REDIS_TIMEOUT = 1.0  # seconds: Redis answers in milliseconds or is unreachable
DATABASE_CONNECT_TIMEOUT = 5  # seconds
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
KEK_FILE = "kek"


@dataclass(frozen=True)
class Setting:
    """One ``BADGEHUB_*`` variable: the Flask config key it fills, how to parse it, what it means."""

    env: str
    key: str
    kind: str
    help: str


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# The single list of every environment variable the platform reads. The README table is generated
# from it (``badgehub config-help``) so that the documentation cannot drift from the code.
SETTINGS: tuple[Setting, ...] = (
    Setting("BADGEHUB_DATA_DIR", "INSTANCE_PATH", "path",
            "Data folder: the SQLite database, the secret key, the key-encryption key and the e-mail outbox, "
            "unless each is set on its own. Default: `./instance`, made absolute by `badgehub init` and written "
            "to the installation's config file, so every later command finds it from any folder."),
    Setting("BADGEHUB_INSTANCE_PATH", "INSTANCE_PATH", "path",
            "Older name of BADGEHUB_DATA_DIR (BADGEHUB_DATA_DIR wins when both are set)."),
    Setting("BADGEHUB_CONFIG", "CONFIG_FILE", "path",
            "The installation's config file: `BADGEHUB_*=value` lines read before the environment (which wins). "
            "Default: `<venv>/var/badgehub-instance/badgehub.cfg` for an installed package, "
            "`<checkout>/instance/badgehub.cfg` in a source checkout."),
    Setting("BADGEHUB_KEYS_DIR", "KEYS_DIR", "path",
            "Folder holding the key-encryption key file `kek` (default: the data folder; a checkout that already "
            "has `keys/kek` keeps using it)."),
    Setting("BADGEHUB_DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "str",
            "SQLAlchemy URL. Default: SQLite file instance/badgehub.db. PostgreSQL: "
            "postgresql+psycopg://user:password@host:5432/badgehub"),
    Setting("BADGEHUB_SECRET_KEY", "SECRET_KEY", "str",
            "Flask secret key (sessions, CSRF). Default: read from instance/secret_key, made by `badgehub init`."),
    Setting("BADGEHUB_KEK", "KEK", "str",
            "Key-encryption key for private signing keys, 64 hex characters. Default: keys/kek, made by "
            "`badgehub init`."),
    Setting("BADGEHUB_BASE_URL", "BASE_URL", "str",
            "Public base URL written into credentials, DIDs and e-mails (default http://127.0.0.1:5000)."),
    Setting("BADGEHUB_ISSUER_ID_STYLE", "ISSUER_ID_STYLE", "str",
            "How organisations are named in credentials: `did:web` (default; `did:web:<host>:issuers:<slug>`, "
            "stable across key rotations) or `did:key` (the active Ed25519 key itself: rotating keys changes "
            "the issuer id)."),
    Setting("BADGEHUB_REDIS_URL", "REDIS_URL", "str",
            "Redis URL for rate limits and the job queue (`badgehub worker` runs the jobs). Unset: in-memory rate "
            "limits, and background jobs in a thread of the web process."),
    Setting("BADGEHUB_MAIL_BACKEND", "MAIL_BACKEND", "str",
            "`file` (default: one .eml per message in the outbox folder) or `smtp`."),
    Setting("BADGEHUB_MAIL_FROM", "MAIL_FROM", "str", "Sender address (default: BadgeHub <no-reply@localhost>)."),
    Setting("BADGEHUB_OUTBOX_DIR", "OUTBOX_DIR", "path",
            "Outbox folder of the file backend (default: instance/outbox)."),
    Setting("BADGEHUB_MAIL_RETENTION_DAYS", "MAIL_RETENTION_DAYS", "int",
            "Days a delivered (or abandoned) e-mail is kept in the outbox before it is deleted (default 30). An "
            "erased person's messages are deleted at once."),
    Setting("BADGEHUB_SMTP_HOST", "SMTP_HOST", "str", "SMTP server host; setting it selects the smtp backend."),
    Setting("BADGEHUB_SMTP_PORT", "SMTP_PORT", "int", "SMTP port (default 587)."),
    Setting("BADGEHUB_SMTP_USERNAME", "SMTP_USERNAME", "str", "SMTP user name, if the server wants one."),
    Setting("BADGEHUB_SMTP_PASSWORD", "SMTP_PASSWORD", "str", "SMTP password."),
    Setting("BADGEHUB_SMTP_SECURITY", "SMTP_SECURITY", "str", "`starttls` (default), `ssl` or `none`."),
    Setting("BADGEHUB_SECURE_COOKIES", "SECURE_COOKIES", "bool",
            "Mark cookies Secure (default: true when BASE_URL is https)."),
    Setting("BADGEHUB_DEFAULT_LOCALE", "BABEL_DEFAULT_LOCALE", "str", "Language when nothing else decides: en or fr."),
    Setting("BADGEHUB_TIMEZONE", "BABEL_DEFAULT_TIMEZONE", "timezone",
            "Time zone the pages show times in and read typed times in, such as the window of a claim campaign "
            "(an IANA name, e.g. Europe/Paris; default UTC)."),
    Setting("BADGEHUB_MAX_UPLOAD_BYTES", "MAX_CONTENT_LENGTH", "int",
            "Largest request body accepted, in bytes (default 10 MiB); bigger ones get 413."),
    Setting("BADGEHUB_RATELIMIT_SIGNIN", "RATELIMIT_SIGNIN", "str",
            "Rate limit of sign-in and link requests per client address (default `10 per minute`)."),
    Setting("BADGEHUB_LOGIN_LINK_MINUTES", "LOGIN_LINK_MINUTES", "int",
            "Lifetime of one-time sign-in links, in minutes (default 20)."),
    Setting("BADGEHUB_KEEP_LINK_DAYS", "KEEP_LINK_DAYS", "int",
            "Lifetime of the \"See and keep your badge\" link of award e-mails, in days (default 60): it signs "
            "the recipient in, or creates their account, once."),
    Setting("BADGEHUB_LOG_LEVEL", "LOG_LEVEL", "str", "Logging level (default INFO)."),
    Setting("BADGEHUB_LOG_FORMAT", "LOG_FORMAT", "str",
            "`text` (default) or `json`: one JSON object per line with the request id (`X-Request-ID`), for a "
            "log collector."),
    Setting("BADGEHUB_METRICS_ALLOWED_NETWORKS", "METRICS_ALLOWED_NETWORKS", "str",
            "Comma-separated client networks that may read `/metrics` without a token, e.g. `10.0.0.0/8` "
            "(default: none). Behind a proxy, set BADGEHUB_TRUSTED_PROXIES too."),
    Setting("BADGEHUB_METRICS_TOKEN", "METRICS_TOKEN", "str",
            "Bearer token that opens `/metrics` from anywhere (default: none). Without a token or an allowed "
            "network, `/metrics` answers 404."),
    Setting("BADGEHUB_CSV_MAX_BYTES", "CSV_MAX_BYTES", "int",
            "Largest CSV list of participants accepted, in bytes (default 2 MiB)."),
    Setting("BADGEHUB_CSV_MAX_ROWS", "CSV_MAX_ROWS", "int",
            "Most participants in one CSV list (default 5000)."),
    Setting("BADGEHUB_BATCH_INLINE_ROWS", "BATCH_INLINE_ROWS", "int",
            "CSV batches with at most this many rows to issue are issued during the request; larger ones go to "
            "the job queue (default 200)."),
    Setting("BADGEHUB_JOB_LEASE_SECONDS", "JOB_LEASE_SECONDS", "int",
            "How long a running CSV batch stays its worker's without a sign of life, in seconds (default 40; a chunk "
            "of 50 rows takes seconds). A batch whose worker died is handed to the next worker or web process "
            "within one and a half leases (every process sweeps every half lease)."),
    Setting("BADGEHUB_TRUSTED_PROXIES", "TRUSTED_PROXIES", "int",
            "How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (default 0: none). "
            "Rate limits and links then use the real client address and scheme."),
    Setting("BADGEHUB_RATELIMIT_CLAIMS", "RATELIMIT_CLAIMS", "str",
            "Rate limit of claim requests and confirmations per client address and per e-mail address typed "
            "(default `20 per minute`; generous, since an event's participants often share one address)."),
    Setting("BADGEHUB_RATELIMIT_CLAIM_CAMPAIGN", "RATELIMIT_CLAIM_CAMPAIGN", "str",
            "Rate limit of claim requests and confirmations per campaign, all clients together "
            "(default `300 per minute`)."),
    Setting("BADGEHUB_RATELIMIT_RECOGNITION", "RATELIMIT_RECOGNITION", "str",
            "Rate limit of recognition requests and answers sent per person (default `10 per hour`)."),
    Setting("BADGEHUB_RATELIMIT_RECOGNITION_ORGANISATION", "RATELIMIT_RECOGNITION_ORGANISATION", "str",
            "Rate limit of recognition requests and answers sent to one organisation, everyone together "
            "(default `200 per hour`)."),
    Setting("BADGEHUB_RATELIMIT_HOLDER_CHECK", "RATELIMIT_HOLDER_CHECK", "str",
            "Rate limit of \"check the holder\" e-mail checks on credential pages `/c/<id>`, per client address "
            "(default `10 per minute`)."),
    Setting("BADGEHUB_RATELIMIT_CERTIFICATE", "RATELIMIT_CERTIFICATE", "str",
            "Rate limit of PDF certificates `/c/<id>.pdf` drawn per client address (default `30 per minute`)."),
    Setting("BADGEHUB_RATELIMIT_WALLET_SHARE", "RATELIMIT_WALLET_SHARE", "str",
            "Rate limit of shared wallet pages `/w/<token>` per client address (default `30 per minute`)."),
    Setting("BADGEHUB_WALLET_STATUS_CACHE_SECONDS", "WALLET_STATUS_CACHE_SECONDS", "int",
            "How long the verification report of a badge imported into a wallet is reused before the pipeline "
            "runs again (default 60). Badges issued here are never reused stale: see "
            "`BADGEHUB_VERDICT_CACHE_ENTRIES`."),
    Setting("BADGEHUB_VERDICT_CACHE_ENTRIES", "VERDICT_CACHE_ENTRIES", "int",
            "Verdicts on badges issued here kept in each process (default 4096; 0 keeps none). A verdict is kept "
            "under a key of everything it depends on (list version, key states, standing, dates), so a change "
            "shows on the next view; with `BADGEHUB_REDIS_URL` verdicts are also shared by every process."),
    Setting("BADGEHUB_VERDICT_CACHE_SECONDS", "VERDICT_CACHE_SECONDS", "int",
            "How long Redis keeps a verdict nobody asked for again (default 86400)."),
    Setting("BADGEHUB_STATUS_LIST_REFRESH_SECONDS", "STATUS_LIST_REFRESH_SECONDS", "int",
            "How often the background worker signs again the status lists that need it (default 3600; lists are "
            "valid one day and signed again in their second half; 0 turns the schedule off: then run "
            "`badgehub status-lists refresh` from cron)."),
    Setting("BADGEHUB_SIGNING_PROCESSES", "SIGNING_PROCESSES", "int",
            "Processes that sign the credentials of a CSV batch or an API batch (default: one per core; 1 signs in "
            "the issuing process itself)."),
    Setting("BADGEHUB_SIGNING_POOL_FROM", "SIGNING_POOL_FROM", "int",
            "Smallest batch that waits for the signing processes when they are not ready yet (default 500). A "
            "smaller batch starts them in the background, signs in the issuing process meanwhile and hands what is "
            "left to them once they are ready."),
    Setting("BADGEHUB_RATELIMIT_API", "RATELIMIT_API", "str",
            "Rate limit of the JSON API `/api/v1` per API token (default `600 per minute`)."),
    Setting("BADGEHUB_API_MAX_BODY_BYTES", "API_MAX_BODY_BYTES", "int",
            "Largest JSON body the API `/api/v1` accepts, in bytes (default 1 MiB); bigger ones get 413."),
    Setting("BADGEHUB_API_BATCH_MAX", "API_BATCH_MAX", "int",
            "Most awards in one `POST /api/v1/credentials/batch` (default 100)."),
    Setting("BADGEHUB_RATELIMIT_VERIFY", "RATELIMIT_VERIFY", "str",
            "Rate limit of badge checks on `/verify` and `POST /api/v1/verify` together, per client address "
            "(default `20 per minute`)."),
    Setting("BADGEHUB_VERIFY_MAX_BYTES", "VERIFY_MAX_BYTES", "int",
            "Largest file, text or body checked on `/verify` and by `POST /api/v1/verify`, in bytes "
            "(default 5 MiB)."),
    Setting("BADGEHUB_VERIFY_FETCH_TIMEOUT", "VERIFY_FETCH_TIMEOUT", "int",
            "Seconds the verifier waits for a remote document (did:web, JWKS, status list, OB 2.0) (default 5)."),
    Setting("BADGEHUB_VERIFY_FETCH_MAX_BYTES", "VERIFY_FETCH_MAX_BYTES", "int",
            "Largest remote document the verifier reads, in bytes (default 1 MiB)."),
    Setting("BADGEHUB_RATELIMIT_PUBLIC_PAGES", "RATELIMIT_PUBLIC_PAGES", "str",
            "Rate limit of the public catalogue search and observatory pages and exports per client address "
            "(default `120 per minute`)."),
    Setting("BADGEHUB_OID4VCI_OFFER_MINUTES", "OID4VCI_OFFER_MINUTES", "int",
            "How long an offer to a phone wallet (OpenID4VCI) and its e-mailed code stay usable (default 30)."),
    Setting("BADGEHUB_RATELIMIT_OID4VCI", "RATELIMIT_OID4VCI", "str",
            "Rate limit of the OpenID4VCI token, nonce and credential endpoints per client address "
            "(default `60 per minute`)."),
    Setting("BADGEHUB_RATELIMIT_OAUTH", "RATELIMIT_OAUTH", "str",
            "Rate limit of the OAuth registration, token and revocation endpoints of the Open Badges API per client "
            "address (default `60 per minute`)."),
)

SUPPORTED_LOCALES = ("en", "fr")


def defaults(instance_path: Path) -> dict[str, Any]:
    """Return the configuration every app starts from, before the environment and test overrides."""
    return {
        "INSTANCE_PATH": instance_path,
        "KEYS_DIR": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'badgehub.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": "http://127.0.0.1:5000",
        "ISSUER_ID_STYLE": "did:web",
        "REDIS_URL": None,
        "MAIL_BACKEND": "file",
        "MAIL_FROM": "BadgeHub <no-reply@localhost>",
        "OUTBOX_DIR": instance_path / "outbox",
        "MAIL_RETENTION_DAYS": 30,
        "SMTP_HOST": None,
        "SMTP_PORT": 587,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_SECURITY": "starttls",
        "SECURE_COOKIES": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        "RATELIMIT_SIGNIN": "10 per minute",
        "LOGIN_LINK_MINUTES": 20,
        "KEEP_LINK_DAYS": 60,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
        "METRICS_ALLOWED_NETWORKS": "",
        "METRICS_TOKEN": None,
        "TRUSTED_PROXIES": 0,
        "CSV_MAX_BYTES": 2 * 1024 * 1024,
        "CSV_MAX_ROWS": 5000,
        "BATCH_INLINE_ROWS": 200,
        "JOB_LEASE_SECONDS": 40,
        "RATELIMIT_CLAIMS": "20 per minute",
        "RATELIMIT_CLAIM_CAMPAIGN": "300 per minute",
        "RATELIMIT_HOLDER_CHECK": "10 per minute",
        "RATELIMIT_RECOGNITION": "10 per hour",
        "RATELIMIT_RECOGNITION_ORGANISATION": "200 per hour",
        "RATELIMIT_API": "600 per minute",
        "API_MAX_BODY_BYTES": 1024 * 1024,
        "API_BATCH_MAX": 100,
        "RATELIMIT_CERTIFICATE": "30 per minute",
        "RATELIMIT_WALLET_SHARE": "30 per minute",
        "WALLET_STATUS_CACHE_SECONDS": 60,
        "VERDICT_CACHE_ENTRIES": 4096,
        "VERDICT_CACHE_SECONDS": 86400,
        "STATUS_LIST_REFRESH_SECONDS": 3600,
        "OID4VCI_OFFER_MINUTES": 30,
        "RATELIMIT_OID4VCI": "60 per minute",
        "RATELIMIT_OAUTH": "60 per minute",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SECRET_KEY": None,
        "KEK": None,
    }


def _parse(setting: Setting, raw: str) -> Any:
    if setting.kind == "int":
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env} must be a whole number, not {raw!r}") from exc
    if setting.kind == "bool":
        return _bool(raw)
    if setting.kind == "path":
        return Path(raw).expanduser().resolve()
    if setting.kind == "timezone":
        try:
            get_timezone(raw.strip())
        except LookupError as exc:
            raise ConfigError(f"{setting.env} must be a time zone name such as Europe/Paris, not {raw!r}") from exc
        return raw.strip()
    return raw


class ConfigError(RuntimeError):
    """The configuration cannot work: a variable is malformed or a secret is missing."""


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the configuration values set through ``BADGEHUB_*`` variables in ``environ``."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if setting.env == "BADGEHUB_INSTANCE_PATH" and environ.get("BADGEHUB_DATA_DIR"):
            continue  # the older name of the data folder yields to the new one
        if raw is not None and raw != "":
            values[setting.key] = _parse(setting, raw)
    if values.get("SMTP_HOST") and "MAIL_BACKEND" not in values:
        values["MAIL_BACKEND"] = "smtp"
    return values


def instance_path_from(environ: Mapping[str, str]) -> Path:
    """The data folder: ``BADGEHUB_DATA_DIR`` (or its older name), else ``./instance`` of the working folder.
    Pass :func:`effective_environment`, so the folder ``badgehub init`` wrote down is found from anywhere."""
    raw = environ.get("BADGEHUB_DATA_DIR") or environ.get("BADGEHUB_INSTANCE_PATH")
    return Path(raw).expanduser().resolve() if raw else (Path.cwd() / "instance").resolve()


def config_file_from(environ: Mapping[str, str]) -> Path:
    """Where this installation keeps its config file (``BADGEHUB_CONFIG``, else a place tied to the
    installation, never to the working folder: Flask's instance folder rule)."""
    raw = environ.get("BADGEHUB_CONFIG")
    if raw:
        return Path(raw).expanduser().resolve()
    if (PACKAGE_DIR / "templates").is_dir():  # an installed wheel, not a checkout
        return Path(sys.prefix) / "var" / "badgehub-instance" / CONFIG_FILE_NAME
    return REPO_ROOT / "instance" / CONFIG_FILE_NAME


def read_config_file(path: Path) -> dict[str, str]:
    """The ``BADGEHUB_*=value`` lines of ``path`` (missing file: nothing). The format is systemd's
    EnvironmentFile, so the web and worker units can read the same file."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.startswith("BADGEHUB_"):
            raise ConfigError(f"{path}, line {number}: write BADGEHUB_NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def write_config_value(path: Path, name: str, value: str) -> None:
    """Set ``name=value`` in the config file ``path`` (created if missing), keeping its other lines."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [
        "# BadgeHub settings of this installation (BADGEHUB_NAME=value; the environment wins).",
    ]
    kept = [line for line in lines if line.partition("=")[0].strip() != name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*kept, f"{name}={value}"]) + "\n", encoding="utf-8")


def effective_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The installation's config file overlaid by ``environ``: what every command and process reads."""
    merged = read_config_file(config_file_from(environ))
    merged.update({name: value for name, value in environ.items() if name.startswith("BADGEHUB_") and value})
    # One folder, one name: an older BADGEHUB_INSTANCE_PATH in the environment still beats the file's DATA_DIR.
    if environ.get("BADGEHUB_INSTANCE_PATH") and not environ.get("BADGEHUB_DATA_DIR"):
        merged.pop("BADGEHUB_DATA_DIR", None)
    return merged


def keys_dir_for(instance_path: Path) -> Path:
    """The default folder of the KEK: the data folder, unless a checkout already keeps it in ``keys/``
    (where it was made before the data folder existed; moving it would leave signing keys unreadable)."""
    legacy = REPO_ROOT / "keys"
    if not (instance_path / KEK_FILE).is_file() and (legacy / KEK_FILE).is_file():
        return legacy
    return instance_path


def _networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(f"BADGEHUB_METRICS_ALLOWED_NETWORKS: {item!r} is not a network such as "
                              "10.0.0.0/8") from exc
    return networks


def finish(config: dict[str, Any]) -> None:
    """Derive the values that depend on others, and load secrets from their files when not given."""
    instance_path = Path(config["INSTANCE_PATH"])
    if config.get("KEYS_DIR") is None:
        config["KEYS_DIR"] = keys_dir_for(instance_path)
    if config.get("OUTBOX_DIR") is None:
        config["OUTBOX_DIR"] = instance_path / "outbox"
    if config.get("SECURE_COOKIES") is None:
        config["SECURE_COOKIES"] = str(config["BASE_URL"]).startswith("https://")
    config["SESSION_COOKIE_SECURE"] = config["SECURE_COOKIES"]
    config["REMEMBER_COOKIE_SECURE"] = config["SECURE_COOKIES"]
    config["PREFERRED_URL_SCHEME"] = "https" if str(config["BASE_URL"]).startswith("https://") else "http"
    if not config.get("SECRET_KEY"):
        secret_file = instance_path / SECRET_KEY_FILE
        if secret_file.is_file():
            config["SECRET_KEY"] = secret_file.read_text().strip()
    if not config.get("KEK"):
        kek_file = Path(config["KEYS_DIR"]) / KEK_FILE
        if kek_file.is_file():
            config["KEK"] = kek_file.read_text().strip()
    if str(config.get("LOG_FORMAT") or "text").lower() not in ("text", "json"):
        raise ConfigError(f"BADGEHUB_LOG_FORMAT must be text or json, not {config['LOG_FORMAT']!r}")
    config["LOG_FORMAT"] = str(config.get("LOG_FORMAT") or "text").lower()
    config["METRICS_NETWORKS"] = _networks(str(config.get("METRICS_ALLOWED_NETWORKS") or ""))
    config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or "memory://"
    if str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("postgresql"):
        # An unreachable database server fails in seconds (readiness checks, requests) instead of hanging.
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"connect_timeout": DATABASE_CONNECT_TIMEOUT})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config.get("REDIS_URL"):
        # Redis down must not take the site down: limits then count in each process's memory (until Redis is
        # back), and a dead address is given up on in a second rather than hanging a request.
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": REDIS_TIMEOUT,
                                                        "socket_timeout": REDIS_TIMEOUT})
