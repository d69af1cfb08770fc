import pytest

from app.db.queries import Queries, QueryError, parse


def test_parse_named_blocks():
    text = "-- name: one\nselect 1;\n\n-- name: two\n-- a comment\nselect 2;\n"
    assert parse(text) == {"one": "select 1;", "two": "-- a comment\nselect 2;"}


def test_duplicate_name_is_refused():
    with pytest.raises(QueryError, match="twice"):
        parse("-- name: a\nselect 1;\n-- name: a\nselect 2;")


def test_missing_required_query_fails_at_load(tmp_path):
    (tmp_path / "a.sql").write_text("-- name: present\nselect 1;\n")
    with pytest.raises(QueryError, match="absent"):
        Queries.load(tmp_path, required=("present", "absent"))


def test_project_queries_load():
    from app.main import REQUIRED_QUERIES

    queries = Queries.load(required=REQUIRED_QUERIES)
    assert "select" in queries["ping"].lower()
