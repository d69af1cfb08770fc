// The cash-out list: first page, "Load more", live insertions and the footer totals.

import { api } from "./api.js";
import { byId, show } from "./dom.js";
import { apiParams, matches } from "./filters.js";
import { toCents, formatCents, kindOf } from "./money.js";
import { renderRow, refreshTimes } from "./row.js";

const PAGE_SIZE = 20;
const ACTIVITY = "/api/v1/agent/cash-out/activity";
const NEW_MARK_MS = 8000;

// Newest settled_at first, then bet_id descending: the server's order.
function before(a, b) {
  const ta = Date.parse(a.settled_at);
  const tb = Date.parse(b.settled_at);
  return ta !== tb ? ta > tb : a.bet_id > b.bet_id;
}

export class Feed {
  constructor() {
    this.body = byId("activity-body");
    this.table = byId("activity");
    this.state = byId("list-state");
    this.retry = byId("list-retry");
    this.more = byId("load-more");
    this.moreError = byId("more-error");
    this.generation = 0;
    this.reset({});
    this.more.addEventListener("click", () => this.loadMore());
    this.retry.addEventListener("click", () => this.reload(this.filters));
    setInterval(() => refreshTimes(this.body), 30000);
  }

  reset(filters) {
    this.filters = filters;
    this.bets = new Set();
    this.events = new Set();
    this.lastServer = null; // the last row of the last page read
    this.hasMore = false;
    this.totals = null;
    this.body.replaceChildren();
  }

  // Loads the first page for these filters; resolves to the list's last_event_id
  // (undefined when the load failed or was overtaken by a newer one).
  async reload(filters) {
    const generation = ++this.generation;
    this.reset(filters);
    this.setState("loading", "Loading cash-outs…");
    show(this.more, false);
    show(this.moreError, false);
    let page;
    try {
      page = await this.fetchPage(0);
    } catch (error) {
      if (generation !== this.generation) return undefined;
      this.lastError = error;
      this.setState("error", `Couldn't load the cash-outs. ${error.message}`);
      this.renderTotals();
      return undefined;
    }
    if (generation !== this.generation) return undefined;
    this.totals = {
      count: page.totals.total_count,
      amount: toCents(page.totals.total_cash_out_amount),
      pl: toCents(page.totals.total_profit_loss),
    };
    this.appendPage(page);
    this.renderTotals();
    return page.last_event_id;
  }

  async loadMore() {
    const generation = this.generation;
    this.more.disabled = true;
    this.more.textContent = "Loading…";
    show(this.moreError, false);
    try {
      const page = await this.fetchPage(this.nextOffset());
      if (generation !== this.generation) return;
      this.appendPage(page);
    } catch (error) {
      if (generation !== this.generation) return;
      this.moreError.textContent = `Couldn't load more. ${error.message}`;
      show(this.moreError, true);
    } finally {
      this.more.disabled = false;
      this.more.textContent = "Load more";
    }
  }

  fetchPage(offset) {
    const params = apiParams(this.filters);
    params.set("limit", String(PAGE_SIZE));
    params.set("offset", String(offset));
    return api(`${ACTIVITY}?${params}`);
  }

  appendPage(page) {
    const fragment = document.createDocumentFragment();
    for (const item of page.items) {
      this.lastServer = item;
      if (this.bets.has(item.bet_id)) continue; // already shown, arrived live
      this.remember(item);
      fragment.append(renderRow(item));
    }
    this.body.append(fragment);
    this.hasMore = Boolean(page.pagination?.has_more);
    show(this.more, this.hasMore);
    this.updateState();
  }

  // The pages read so far cover the server's order down to lastServer, and live
  // rows fill in anything newer, so the rows shown at or above lastServer are
  // exactly the rows the server now has there: the next page starts after them.
  nextOffset() {
    if (this.lastServer === null) return 0;
    let count = 0;
    for (const row of this.body.children) {
      if (!before(this.lastServer, row.item)) count += 1;
    }
    return count;
  }

  remember(item) {
    this.bets.add(item.bet_id);
    if (item.event_id !== null && item.event_id !== undefined) this.events.add(item.event_id);
  }

  // A cash-out from the stream. Returns true when it was added to the list.
  addLive(item) {
    if (this.totals === null) return false; // no list to add to (loading or failed)
    if (item.event_id != null && this.events.has(item.event_id)) return false;
    if (this.bets.has(item.bet_id)) return false;
    if (!matches(item, this.filters)) return false;
    this.remember(item);
    const row = renderRow(item);
    row.dataset.live = "";
    row.classList.add("is-new");
    setTimeout(() => row.classList.remove("is-new"), NEW_MARK_MS);
    this.body.prepend(row);
    this.totals.count += 1;
    this.totals.amount += toCents(item.cash_out_amount);
    this.totals.pl += toCents(item.profit_loss);
    this.renderTotals();
    this.updateState();
    return true;
  }

  updateState() {
    const rows = this.body.childElementCount;
    show(this.table, rows > 0);
    if (rows > 0) this.setState("ready", "");
    else if (this.hasFilters()) this.setState("empty", "No cash-outs match these filters.");
    else this.setState("empty", "No cash-outs yet. New ones appear here as they happen.");
  }

  hasFilters() {
    const f = this.filters;
    return Boolean(f.customer_id || f.date_from || f.date_to);
  }

  setState(kind, text) {
    this.state.dataset.state = kind;
    this.state.textContent = text;
    show(this.state, Boolean(text));
    show(this.retry, kind === "error");
    this.table.setAttribute("aria-busy", kind === "loading" ? "true" : "false");
    if (kind !== "ready") show(this.table, this.body.childElementCount > 0);
  }

  renderTotals() {
    const count = byId("total-count");
    const amount = byId("total-amount");
    const pl = byId("total-pl");
    if (this.totals === null) {
      count.textContent = amount.textContent = pl.textContent = "—";
      pl.className = "";
      return;
    }
    count.textContent = this.totals.count.toLocaleString();
    amount.textContent = formatCents(this.totals.amount);
    const kind = kindOf(this.totals.pl);
    pl.textContent = formatCents(this.totals.pl, { signed: true });
    pl.className = `pl pl-${kind}`;
  }
}
