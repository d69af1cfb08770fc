"""Where the project's non-Python files are: inside the package when it was installed
from its wheel (``app/_files/``), else beside it in the checkout."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_INSTALLED = _PACKAGE / "_files"
ROOT = _INSTALLED if _INSTALLED.is_dir() else _PACKAGE.parent
SQL_DIR = ROOT / "sql"
# The current definitions of the app's functions, views and triggers.
SCHEMA_DIR = SQL_DIR / "schema"
MIGRATIONS_DIR = ROOT / "migrations"
STATIC_DIR = ROOT / "static"
