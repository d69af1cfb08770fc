"""Answering from an ASGI wrapper, before Litestar sees the request."""

from __future__ import annotations

import json

from litestar.types import Send


async def send_error(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An error in Litestar's error body shape, so clients handle every error alike."""
    body = json.dumps({"status_code": status, "detail": detail, "extra": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
