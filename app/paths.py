"""Where the project's non-Python files live (next to the package, in the checkout)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"
MIGRATIONS_DIR = ROOT / "migrations"
STATIC_DIR = ROOT / "static"
