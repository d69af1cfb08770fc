"""Small helpers for PostgreSQL connection URLs."""

from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def yoyo_url(url: str) -> str:
    """yoyo names its psycopg 3 backend ``postgresql+psycopg``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
