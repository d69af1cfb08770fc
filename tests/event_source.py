"""A client that behaves as a browser's EventSource does, in a thread.

Per the HTML standard's event-stream rules: an event is dispatched at its blank
line and only then becomes the last event id; an event cut off by the end of
the connection is dropped; when the connection ends or fails, it waits the
`retry:` time and reconnects with `Last-Event-ID`; a non-200 answer closes it
for good (EventSource "fails the connection").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

STREAM = "/api/v1/agent/cash-out/stream"


class EventSource(threading.Thread):
    def __init__(self, make_client: Callable[[], httpx.Client], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._make_client = make_client
        self.retry_ms = 3000  # until the server says otherwise
        self.last_event_id: str | None = None
        self.bet_ids: list[int] = []
        # The Last-Event-ID sent on each connection (None: the first, without one).
        self.sent_ids: list[str | None] = []
        self.failures: list[str] = []
        self.closed_for_good: str | None = None
        self.connected = threading.Event()  # the first `retry:` arrived
        self._halt = threading.Event()

    def run(self) -> None:
        with self._make_client() as client:
            while not self._halt.is_set():
                self._connect(client)
                if self._halt.is_set() or self.closed_for_good is not None:
                    return
                # The reconnection delay EventSource waits; close() cuts it short.
                self._halt.wait(self.retry_ms / 1000)

    def close(self) -> None:
        self._halt.set()

    def _connect(self, client: httpx.Client) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self.sent_ids.append(self.last_event_id)
        try:
            with client.stream("GET", STREAM, headers=headers) as response:
                if response.status_code != 200:
                    self.closed_for_good = f"HTTP {response.status_code}"
                    return
                self._read(response)
        except httpx.HTTPError as exc:
            self.failures.append(type(exc).__name__)

    def _read(self, response: httpx.Response) -> None:
        event, data, event_id = "", [], self.last_event_id
        for line in response.iter_lines():
            if line == "":
                # Dispatch: the id becomes the last event id even without data.
                self.last_event_id = event_id
                if data:
                    self._dispatch(event or "message", "\n".join(data))
                event, data = "", []
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                event_id = value
            elif name == "retry" and value.isdigit():
                self.retry_ms = int(value)
                self.connected.set()
        # The end of the connection: an event without its blank line is dropped.

    def _dispatch(self, event: str, data: str) -> None:
        if event == "cash_out":
            item: dict[str, Any] = json.loads(data)
            self.bet_ids.append(int(item["bet_id"]))
        else:
            self.failures.append(f"event {event}: {data}")
