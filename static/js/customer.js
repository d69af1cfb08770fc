// The customer drill-down's own panel: who the customer is, and their summary
// for 24 hours, 7 days and 30 days side by side. The chart (daily.js) and the
// list (feed.js) below it are the page's own, narrowed to this customer.

import { api, ApiError } from "./api.js";
import { byId, el, show } from "./dom.js";
import { displayName } from "./format.js";
import { formatMoney } from "./money.js";
import { plValue } from "./row.js";

const SUMMARY = "/api/v1/agent/cash-out/summary";
const PERIODS = [
  ["24h", "24 hours"],
  ["7d", "7 days"],
  ["30d", "30 days"],
];
const REFRESH_DEBOUNCE_MS = 1000;
const REFRESH_EVERY_MS = 60000;

// One row per figure, one column per period: the three periods compare at a
// glance, and a phone fits them side by side.
const ROWS = [
  ["Cash-outs", (d) => d.total_cash_outs.toLocaleString()],
  ["Auto", (d) => d.auto_cash_out_count.toLocaleString()],
  ["Net P/L", (d) => plValue(d.net_profit_loss)],
  ["Amount", (d) => formatMoney(d.total_cash_out_amount)],
  ["Stake", (d) => formatMoney(d.total_stake)],
  ["Avg return", (d) => (d.avg_return_ratio === null ? "n/a" : `${d.avg_return_ratio}×`)],
];

function periodsTable(summaries) {
  return el(
    "table",
    { class: "periods-table" },
    el("caption", { class: "visually-hidden", text: "This customer's figures by period" }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("td", {}),
        ...summaries.map((d, i) => el("th", { scope: "col", class: "num", "data-period": d.period, text: PERIODS[i][1] })),
      ),
    ),
    el(
      "tbody",
      {},
      ...ROWS.map(([name, value]) =>
        el(
          "tr",
          {},
          el("th", { scope: "row", text: name }),
          ...summaries.map((d) => el("td", { class: "num", "data-period": d.period }, value(d))),
        ),
      ),
    ),
  );
}

export class CustomerPanel {
  constructor() {
    this.customerId = null;
    this.generation = 0;
    this.timer = null;
    this.interval = null;
  }

  // person: {id, username, display_name} when known (from the customer list).
  open(customerId, person) {
    this.close();
    this.customerId = customerId;
    this.name(person);
    byId("customer-periods").replaceChildren();
    this.interval = setInterval(() => this.load(), REFRESH_EVERY_MS);
    return this.load();
  }

  name(person) {
    const title = byId("customer-title");
    const subtitle = byId("customer-subtitle");
    if (!person) {
      title.textContent = `Customer #${this.customerId}`;
      subtitle.textContent = "";
      return;
    }
    title.textContent = displayName(person);
    const username = person.username && person.username !== title.textContent ? `${person.username} · ` : "";
    subtitle.textContent = `${username}customer #${person.id}`;
  }

  close() {
    clearInterval(this.interval);
    clearTimeout(this.timer);
    this.interval = null;
    this.timer = null;
    this.customerId = null;
    this.generation += 1;
  }

  refreshSoon(item) {
    if (this.customerId === null || String(item.customer_id) !== this.customerId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), REFRESH_DEBOUNCE_MS);
  }

  async load() {
    const generation = ++this.generation;
    const status = byId("customer-status");
    const id = encodeURIComponent(this.customerId);
    try {
      const summaries = await Promise.all(
        PERIODS.map(([period]) => api(`${SUMMARY}?period=${period}&customer_id=${id}`)),
      );
      if (generation !== this.generation) return;
      show(status, false);
      byId("customer-periods").replaceChildren(periodsTable(summaries));
      const top = summaries[2].top_customers[0];
      if (top && byId("customer-title").textContent.startsWith("Customer #")) {
        this.name({ id: top.customer_id, username: top.customer_username, display_name: null });
      }
    } catch (error) {
      if (generation !== this.generation) return;
      status.textContent =
        error instanceof ApiError && error.status === 404
          ? `Customer #${this.customerId} is not one of your customers.`
          : `Couldn't load this customer's figures. ${error.message}`;
      status.dataset.state = "error";
      show(status, true);
    }
  }
}
