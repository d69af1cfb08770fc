"""The benchmark's outputs: a JSON document and a Markdown rendering of it."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "_(no rows)_\n"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _section(title: str, body: Any) -> str:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        columns: list[str] = []
        for row in body:
            columns += [k for k in row if k not in columns]
        return f"### {title}\n\n{table(body, columns)}\n"
    if isinstance(body, dict):
        rows = [
            {"figure": k, "value": v} for k, v in body.items() if not isinstance(v, list | dict)
        ]
        out = f"### {title}\n\n{table(rows, ['figure', 'value'])}\n" if rows else ""
        for key, value in body.items():
            if isinstance(value, list | dict):
                out += _section(f"{title} — {key}", value)
        return out
    return f"### {title}\n\n{_cell(body)}\n\n"


def markdown(result: dict[str, Any]) -> str:
    out = f"## Benchmark run {result.get('started_at', '')}\n\n"
    for key, value in result.items():
        if key == "started_at":
            continue
        out += _section(key, value)
    return out


def write(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = out_dir / f"bench-{stamp}.json"
    md_path = out_dir / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    for name, path in (("latest.json", json_path), ("latest.md", md_path)):
        (out_dir / name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return json_path, md_path
