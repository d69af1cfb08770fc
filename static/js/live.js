// The live stream (Server-Sent Events, cookie auth, same origin) and its indicator.
//
// The first connection starts from the list's last_event_id; EventSource's own
// reconnects send Last-Event-ID, which the server prefers. When the browser gives
// up (an HTTP error such as 401 or 503) we reconnect ourselves, with backoff, from
// the last event we saw.

import { byId } from "./dom.js";

const STREAM = "/api/v1/agent/cash-out/stream";
const LABELS = {
  live: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export class LiveStream {
  constructor({ onItem, onReset, checkSession }) {
    this.onItem = onItem;
    this.onReset = onReset;
    this.checkSession = checkSession;
    this.source = null;
    this.timer = null;
    this.failures = 0;
    this.running = false;
    this.position = null;
    window.addEventListener("offline", () => this.running && this.setStatus("offline"));
    window.addEventListener("online", () => {
      if (!this.running) return;
      if (this.source === null) this.reconnectNow();
      else this.setStatus(this.source.readyState === EventSource.OPEN ? "live" : "reconnecting");
    });
  }

  start(lastEventId) {
    this.stop();
    this.running = true;
    // The list's last_event_id: "0" when it was read before the agent's first
    // event, and starting there (not "from now") replays an event that commits
    // between reading the list and connecting.
    this.position = lastEventId;
    this.failures = 0;
    this.open("connecting");
  }

  stop(status = "offline") {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.source) this.source.close();
    this.source = null;
    this.setStatus(status);
  }

  open(status) {
    const source = new EventSource(`${STREAM}?last_event_id=${encodeURIComponent(this.position)}`);
    this.source = source;
    this.setStatus(status);
    source.addEventListener("open", () => {
      if (source !== this.source) return;
      this.failures = 0;
      this.setStatus("live");
    });
    source.addEventListener("cash_out", (event) => {
      if (source !== this.source) return;
      if (event.lastEventId) this.position = event.lastEventId;
      let item;
      try {
        item = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onItem(item);
    });
    source.addEventListener("reset", (event) => {
      if (source !== this.source) return;
      // The server ends the stream after a reset: close first so that the
      // browser does not reconnect from the stale position.
      source.close();
      this.source = null;
      this.setStatus("reconnecting");
      this.onReset(event.data);
    });
    source.addEventListener("error", () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.retryLater();
      } else {
        this.setStatus(navigator.onLine ? "reconnecting" : "offline");
      }
    });
  }

  retryLater() {
    this.failures += 1;
    this.setStatus(navigator.onLine && this.failures < 4 ? "reconnecting" : "offline");
    const delay = Math.min(30000, 1000 * 2 ** Math.min(this.failures, 5)) * (0.75 + Math.random() / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reconnectNow(), delay);
  }

  async reconnectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    // A stream refused for an expired session looks like any other failure to
    // EventSource; asking the API tells them apart (a 401 there ends the page's session).
    const ok = await this.checkSession();
    if (!this.running || this.source !== null) return;
    if (ok) this.open("reconnecting");
    else this.retryLater();
  }

  setStatus(status) {
    this.status = status;
    const indicator = byId("live-indicator");
    indicator.className = `live live-${status}`;
    indicator.dataset.status = status;
    byId("live-text").textContent = LABELS[status];
  }
}
