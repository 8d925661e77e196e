"""Settings from the environment: SQLite and in-process jobs unless told otherwise."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

#: The statute's ceiling (Minn. Stat. § 13.824 subd. 3, policy 425.5); config may only lower it.
STATUTORY_RETENTION_DAYS = 60

PRODUCTION_VALUES = {"production", "prod"}
DEVELOPMENT_VALUES = {"development", "dev"}


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings would make the app unlawful or insecure."""


#: A search warrant number: letters, digits and - . /, 4 to 40 characters, at least one digit.
DEFAULT_WARRANT_NUMBER_PATTERN = r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9./-]{3,39}"


def _pattern(name: str, default: str) -> str:
    """A regular expression setting, refused at start-up when it does not compile."""
    value = os.environ.get(name, default)
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigurationError(f"{name} is not a valid regular expression: {exc}") from None
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def _at_least_one(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1, got {value}.")
    return value


def _between(name: str, default: int, high: int) -> int:
    """A whole number from 1 to `high`: past it a date computed from it would overflow."""
    value = _at_least_one(name, default)
    if value > high:
        raise ConfigurationError(f"{name} must be at most {high}, got {value}.")
    return value


def _at_least_zero(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 0:
        raise ConfigurationError(f"{name} must be 0 or more, got {value}.")
    return value


def is_development() -> bool:
    """Development is declared too (ALPR_ENV or FLASK_ENV development): what `scripts/start` runs.

    Only there may accounts made from the shell keep the password they were given; anywhere
    else (production, staging, an unnamed environment) their owner replaces it first.
    """
    return (
        os.environ.get("ALPR_ENV", "").lower() in DEVELOPMENT_VALUES
        or os.environ.get("FLASK_ENV", "").lower() in DEVELOPMENT_VALUES
    )


def is_production() -> bool:
    """Production is declared, never guessed: ALPR_ENV or FLASK_ENV set to production."""
    return (
        os.environ.get("ALPR_ENV", "").lower() in PRODUCTION_VALUES
        or os.environ.get("FLASK_ENV", "").lower() in PRODUCTION_VALUES
    )


def private_directory(path: Path) -> Path:
    """Make `path` (the instance folder) readable by the app's own user only: 0700.

    It holds the SQLite database, the development keys, the pictures and the scanned requests:
    ALPR data that no other account on the machine may read (425.6(a)).
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` if missing, owner-only (0600) from its first byte, and keep it so."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)
    return path


def _development_key(instance_path: Path, filename: str) -> str:
    """Generate a key once into instance/ so restarts keep sessions and ACP HMACs stable."""
    path = instance_path / filename
    if path.exists():
        path.chmod(0o600)
        return path.read_text().strip()
    private_directory(instance_path)
    key = secrets.token_hex(32)
    private_file(path).write_text(key)
    return key


#: SHA-256 of the development keys an early commit of the repository held by mistake
#: (removed since, still in its history): public, so never accepted as a key again.
BURNED_KEY_DIGESTS = frozenset(
    {
        "4425d85607ad63629e353aaf93e33793ae108a25da49f6787c80808716501c6e",
        "870df0fdd7d692df00b9483b5b538ab042241f04618774aa5ba62df1ccb6bcbf",
    }
)


def _refuse_burned(name: str, value: str) -> str:
    if hashlib.sha256(value.strip().encode()).hexdigest() in BURNED_KEY_DIGESTS:
        raise ConfigurationError(
            f"{name} is a key published in the repository's history; set a new random value."
        )
    return value


def _secret(name: str, instance_path: Path, filename: str) -> str:
    value = os.environ.get(name, "")
    if value:
        if is_production() and len(value.strip()) < 32:
            raise ConfigurationError(f"{name} must be at least 32 characters in production.")
        return _refuse_burned(name, value)
    if is_production():
        raise ConfigurationError(
            f"{name} is not set. In production the app refuses to start without a real key: "
            f"set {name} to a long random value (e.g. `python -c 'import secrets; "
            f"print(secrets.token_hex(32))'`)."
        )
    return _refuse_burned(name, _development_key(instance_path, filename))


#: How to make a signing key, for the error that asks for one.
SIGNING_KEY_HOWTO = (
    "make one with `openssl genpkey -algorithm ed25519 -out audit-signing-key.pem`, keep it "
    "outside the database and its backups, and set ALPR_AUDIT_SIGNING_KEY_FILE to its path"
)


def _checked_signing_key(pem: bytes, where: str) -> bytes:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{where} is not an unencrypted PEM private key: {SIGNING_KEY_HOWTO}."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{where} must be an Ed25519 key: {SIGNING_KEY_HOWTO}.")
    return pem


def audit_signing_key(instance_path: Path) -> bytes:
    """The Ed25519 key (PEM) that signs audit checkpoints; it lives outside the database.

    A checkpoint only proves something if whoever can rewrite the database cannot also sign:
    so the key comes from the environment or a key file, never from a table. Development
    generates one into instance/ (0600); production refuses to start without one.
    """
    inline = os.environ.get("ALPR_AUDIT_SIGNING_KEY", "")
    path = os.environ.get("ALPR_AUDIT_SIGNING_KEY_FILE", "")
    if inline and path:
        raise ConfigurationError(
            "Set ALPR_AUDIT_SIGNING_KEY or ALPR_AUDIT_SIGNING_KEY_FILE, not both."
        )
    if path:
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"ALPR_AUDIT_SIGNING_KEY_FILE {path!r} cannot be read ({exc.strerror})."
            ) from exc
        return _checked_signing_key(pem, "ALPR_AUDIT_SIGNING_KEY_FILE")
    if inline:
        return _checked_signing_key(inline.encode(), "ALPR_AUDIT_SIGNING_KEY")
    if is_production():
        raise ConfigurationError(
            f"No audit signing key is set. In production the app refuses to start without "
            f"one: {SIGNING_KEY_HOWTO}."
        )
    generated = instance_path / "audit_signing_key.pem"
    if not generated.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        private_file(generated).write_bytes(pem)
    generated.chmod(0o600)
    return _checked_signing_key(generated.read_bytes(), str(generated))


def validate_retention_days(days: int) -> int:
    """The retention period may be shortened, never lengthened past the statute's 60 days."""
    if days < 1 or days > STATUTORY_RETENTION_DAYS:
        raise ConfigurationError(
            f"ALPR_RETENTION_DAYS must be between 1 and {STATUTORY_RETENTION_DAYS} "
            f"(Minn. Stat. § 13.824 subd. 3); got {days}."
        )
    return days


def validate_trusted_proxies(hops: object) -> int:
    """X-Forwarded-* is trusted from this many proxies; one too many lets a client forge it."""
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise ConfigurationError(
            "ALPR_TRUSTED_PROXIES must be 0 (no reverse proxy) or the number of reverse proxies "
            f"in front of the app; got {hops!r}."
        )
    return hops


@dataclass(frozen=True)
class ScheduleCategory:
    """A records-retention schedule category a closed case's held data may be kept under."""

    code: str
    label: str
    years: int

    def ends(self, closed_on: date) -> date:
        """The last day the schedule allows: `years` after the close (29 February → 28th)."""
        try:
            return closed_on.replace(year=closed_on.year + self.years)
        except ValueError:
            return closed_on.replace(year=closed_on.year + self.years, day=28)


#: Illustrative categories: set ALPR_RECORDS_SCHEDULE to the department's own schedule.
DEFAULT_RECORDS_SCHEDULE = (
    "felony=7:Felony investigation file;"
    "gross_misdemeanor=5:Gross misdemeanor investigation file;"
    "misdemeanor=3:Misdemeanor investigation file"
)
SCHEDULE_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
SCHEDULE_MAX_YEARS = 99
SCHEDULE_LABEL_MAX = 100
SCHEDULE_FORMAT = "code=years:label, separated by ';' (e.g. felony=7:Felony investigation file)"


def parse_records_schedule(raw: str) -> tuple[ScheduleCategory, ...]:
    """Read ALPR_RECORDS_SCHEDULE (:data:`SCHEDULE_FORMAT`), or refuse it saying what is wrong.

    A closed case's data may be kept for a category's period, so a typing slip here would keep
    data for years: every entry is checked, and a bad one stops the app from starting.
    """
    entries = [entry.strip() for entry in raw.split(";") if entry.strip()]
    categories = []
    for number, entry in enumerate(entries, start=1):
        code, equals, rest = entry.partition("=")
        years, colon, label = rest.partition(":")
        if not (equals and colon):
            raise ConfigurationError(
                f"ALPR_RECORDS_SCHEDULE entry {number} ({entry!r}) is not {SCHEDULE_FORMAT}."
            )
        try:
            period = int(years.strip())
        except ValueError:
            raise ConfigurationError(
                f"ALPR_RECORDS_SCHEDULE category {code.strip()!r}: the period must be a whole "
                f"number of years from 1 to {SCHEDULE_MAX_YEARS}; got {years.strip()!r}."
            ) from None
        categories.append(ScheduleCategory(code.strip(), label.strip(), period))
    return validate_records_schedule(tuple(categories))


def validate_records_schedule(categories: object) -> tuple[ScheduleCategory, ...]:
    """The schedule's categories, checked: at least one, known codes once, 1–99 years, a label.

    Takes what ALPR_RECORDS_SCHEDULE parses to, or the text itself (a test's override).
    """
    if isinstance(categories, str):
        return parse_records_schedule(categories)
    if not isinstance(categories, tuple | list) or not all(
        isinstance(c, ScheduleCategory) for c in categories
    ):
        raise ConfigurationError(f"ALPR_RECORDS_SCHEDULE must be {SCHEDULE_FORMAT}.")
    if not categories:
        raise ConfigurationError(
            f"ALPR_RECORDS_SCHEDULE names no category; give at least one as {SCHEDULE_FORMAT}."
        )
    seen: set[str] = set()
    for category in categories:
        name = f"ALPR_RECORDS_SCHEDULE category {category.code!r}"
        if not SCHEDULE_CODE.fullmatch(category.code):
            raise ConfigurationError(
                f"{name}: a code is a lower-case letter, then up to 31 lower-case letters, "
                "digits or underscores."
            )
        if category.code in seen:
            raise ConfigurationError(f"{name} is listed twice.")
        seen.add(category.code)
        if isinstance(category.years, bool) or not 1 <= category.years <= SCHEDULE_MAX_YEARS:
            raise ConfigurationError(
                f"{name}: the period must be a whole number of years from 1 to "
                f"{SCHEDULE_MAX_YEARS}; got {category.years!r}."
            )
        if not category.label or len(category.label) > SCHEDULE_LABEL_MAX:
            raise ConfigurationError(
                f"{name}: give a label of 1 to {SCHEDULE_LABEL_MAX} characters."
            )
    return tuple(categories)


def validate_tile_url(url: str) -> str:
    """A map tile server is http(s) and names {z}, {x} and {y}; empty means no tiles at all.

    The public locations page then fetches tiles from it (and only it): a department's own
    server. Without one the page draws the points itself and asks nothing outside the app.
    """
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError(f"ALPR_MAP_TILE_URL must be an http(s) URL; got {url!r}.")
    if not all(name in url for name in ("{z}", "{x}", "{y}")):
        raise ConfigurationError(
            f"ALPR_MAP_TILE_URL must name {{z}}, {{x}} and {{y}}, e.g. "
            f"https://tiles.example.gov/{{z}}/{{x}}/{{y}}.png; got {url!r}."
        )
    return url


def database_url(instance_path: Path) -> str:
    """DATABASE_URL, or a SQLite file under instance/ by default."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        database = private_file(private_directory(instance_path) / "alpr.sqlite3")
        return f"sqlite:///{database}"
    return psycopg_url(url)


def psycopg_url(url: str) -> str:
    """A PostgreSQL URL spelled for SQLAlchemy's psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def replica_url(primary: str) -> str | None:
    """DATABASE_REPLICA_URL: a streaming replica of the PostgreSQL primary, for reads; or None."""
    url = os.environ.get("DATABASE_REPLICA_URL", "")
    if not url:
        return None
    url = psycopg_url(url)
    if not (url.startswith("postgresql") and primary.startswith("postgresql")):
        raise ConfigurationError(
            "DATABASE_REPLICA_URL names a PostgreSQL streaming replica of a PostgreSQL "
            "DATABASE_URL."
        )
    return url


def default_instance_path() -> Path:
    """instance/ beside the code, or ALPR_INSTANCE_PATH."""
    return Path(
        os.environ.get("ALPR_INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance")
    )


def load_settings(instance_path: Path | None = None) -> dict[str, Any]:
    """Read every setting once; the factory copies them into app.config."""
    instance_path = private_directory(instance_path or default_instance_path())
    redis_url = os.environ.get("REDIS_URL") or None
    production = is_production()
    secret_key = _secret("SECRET_KEY", instance_path, "secret_key")
    acp_hmac_key = _secret("ACP_HMAC_KEY", instance_path, "acp_hmac_key")
    if secret_key.strip() == acp_hmac_key.strip():
        # One leaked key would then both forge sessions and test plates against ACP digests.
        raise ConfigurationError("SECRET_KEY and ACP_HMAC_KEY must be two different keys.")
    primary = database_url(instance_path)
    return {
        "INSTANCE_PATH": str(instance_path),
        "PRODUCTION": production,
        "DEVELOPMENT": is_development() and not production,
        "SECRET_KEY": secret_key,
        "ACP_HMAC_KEY": acp_hmac_key,
        "AUDIT_SIGNING_KEY": audit_signing_key(instance_path),
        "DATABASE_URL": primary,
        "DATABASE_REPLICA_URL": replica_url(primary),
        "REPLICA_MAX_LAG_SECONDS": _at_least_zero("ALPR_REPLICA_MAX_LAG_SECONDS", 5),
        "REDIS_URL": redis_url,
        "IMAGE_STORE": os.environ.get("ALPR_IMAGE_STORE", str(instance_path / "images")),
        "S3_ENDPOINT_URL": os.environ.get("ALPR_S3_ENDPOINT_URL") or None,
        "DOCUMENT_STORE": os.environ.get("ALPR_DOCUMENT_STORE", str(instance_path / "documents")),
        "RELEASE_STORE": os.environ.get("ALPR_RELEASE_STORE", str(instance_path / "releases")),
        "DESTRUCTION_LEDGER": os.environ.get(
            "ALPR_DESTRUCTION_LEDGER", str(instance_path / "destruction-ledger.jsonl")
        ),
        "BACKUP_DIR": os.environ.get("ALPR_BACKUP_DIR", str(instance_path / "backups")),
        "RELEASE_LINK_DAYS": _at_least_one("ALPR_RELEASE_LINK_DAYS", 7),
        "RETENTION_DAYS": validate_retention_days(
            _int("ALPR_RETENTION_DAYS", STATUTORY_RETENTION_DAYS)
        ),
        "ACTIVE_USE_GAP_MINUTES": _int("ALPR_ACTIVE_USE_GAP_MINUTES", 30),
        "TRACKING_WINDOW_HOURS": _int("ALPR_TRACKING_WINDOW_HOURS", 24),
        "TRACKING_LOOKBACK_DAYS": _int("ALPR_TRACKING_LOOKBACK_DAYS", 7),
        "WARRANT_NUMBER_PATTERN": _pattern(
            "ALPR_WARRANT_NUMBER_PATTERN", DEFAULT_WARRANT_NUMBER_PATTERN
        ),
        "EXIGENT_MIN_CHARS": _int("ALPR_EXIGENT_MIN_CHARS", 40),
        "CLOCK_SKEW_SECONDS": _int("ALPR_CLOCK_SKEW_SECONDS", 300),
        "INGEST_MAX_BATCH": _int("ALPR_INGEST_MAX_BATCH", 1000),
        "IMAGE_MAX_BYTES": _int("ALPR_IMAGE_MAX_BYTES", 5 * 1024 * 1024),
        "MAX_CONTENT_LENGTH": _int("ALPR_MAX_REQUEST_BYTES", 20 * 1024 * 1024),
        "PURGE_BATCH_SIZE": _int("ALPR_PURGE_BATCH_SIZE", 50000),
        "DEVICE_SILENT_HOURS": _between("ALPR_DEVICE_SILENT_HOURS", 24, 24 * 366),
        "TOKEN_ROTATE_DAYS": _between("ALPR_TOKEN_ROTATE_DAYS", 365, 3660),
        "TRAINING_LAPSE_DAYS": _between("ALPR_TRAINING_LAPSE_DAYS", 30, 366),
        "RECORDS_SCHEDULE": parse_records_schedule(
            os.environ.get("ALPR_RECORDS_SCHEDULE", DEFAULT_RECORDS_SCHEDULE)
        ),
        "LOGIN_LOCKOUT_THRESHOLD": _int("ALPR_LOGIN_LOCKOUT_THRESHOLD", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("ALPR_LOGIN_LOCKOUT_MINUTES", 15),
        "LOGIN_RATE_LIMIT": os.environ.get("ALPR_LOGIN_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "DISPLAY_TIMEZONE": os.environ.get("ALPR_DISPLAY_TIMEZONE", "America/Chicago"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production
        or os.environ.get("ALPR_SECURE_COOKIES", "").lower() in {"1", "true"},
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int("ALPR_SESSION_MINUTES", 480) * 60,
        "WTF_CSRF_TIME_LIMIT": None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "TRUSTED_PROXIES": validate_trusted_proxies(_int("ALPR_TRUSTED_PROXIES", 0)),
        "DEPARTMENT_NAME": os.environ.get("ALPR_DEPARTMENT_NAME", "Winona Police Department"),
        "SMTP_URL": os.environ.get("ALPR_SMTP_URL") or None,
        "MAIL_FROM": os.environ.get("ALPR_MAIL_FROM", "alpr-records@localhost"),
        "MAP_TILE_URL": validate_tile_url(os.environ.get("ALPR_MAP_TILE_URL", "")),
        "MAP_TILE_ATTRIBUTION": os.environ.get("ALPR_MAP_TILE_ATTRIBUTION", "").strip(),
        "PUBLISH_AUDIT_TRAIL": os.environ.get("ALPR_PUBLISH_AUDIT_TRAIL", "").lower()
        in {"1", "true", "yes"},
        "AUDIT_SEQUENCER_PROCESS": os.environ.get("ALPR_AUDIT_SEQUENCER", "").lower() == "process",
    }
