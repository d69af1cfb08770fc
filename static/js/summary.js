// The summary widget: period tabs (24h / 7d / 30d), the metrics and the top customers.

import { api } from "./api.js";
import { byId, el, show } from "./dom.js";
import { customerName, exactTime, plural } from "./format.js";
import { customerHref } from "./filters.js";
import { formatMoney } from "./money.js";
import { plValue } from "./row.js";

const PERIOD_WORDS = { "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days" };
const REFRESH_DEBOUNCE_MS = 1000;
// The window is rolling: refresh now and then even when nothing arrives.
const REFRESH_EVERY_MS = 60000;

export class Summary {
  constructor(onPeriodChange) {
    this.period = "24h";
    this.onPeriodChange = onPeriodChange;
    this.generation = 0;
    this.timer = null;
    this.tabs = [...document.querySelectorAll('.summary [role="tab"]')];
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.select(tab.dataset.period, true));
      tab.addEventListener("keydown", (event) => this.onKey(event, tab));
    }
    this.interval = null;
  }

  onKey(event, tab) {
    const index = this.tabs.indexOf(tab);
    let next = null;
    if (event.key === "ArrowRight") next = this.tabs[(index + 1) % this.tabs.length];
    else if (event.key === "ArrowLeft") {
      next = this.tabs[(index - 1 + this.tabs.length) % this.tabs.length];
    }
    else if (event.key === "Home") next = this.tabs[0];
    else if (event.key === "End") next = this.tabs[this.tabs.length - 1];
    if (!next) return;
    event.preventDefault();
    next.focus();
    this.select(next.dataset.period, true);
  }

  select(period, byUser = false) {
    this.period = period;
    for (const tab of this.tabs) {
      const selected = tab.dataset.period === period;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) byId("summary-panel").setAttribute("aria-labelledby", tab.id);
    }
    if (byUser) this.onPeriodChange(period);
    return this.load();
  }

  start(period) {
    this.stop();
    this.interval = setInterval(() => this.load(), REFRESH_EVERY_MS);
    return this.select(period);
  }

  stop() {
    clearInterval(this.interval);
    clearTimeout(this.timer);
    this.interval = null;
    this.timer = null;
    this.generation += 1;
  }

  // New cash-outs arrived: refresh once things settle rather than per event.
  refreshSoon() {
    if (this.interval === null) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), REFRESH_DEBOUNCE_MS);
  }

  async load() {
    const generation = ++this.generation;
    const status = byId("summary-status");
    byId("summary-panel").setAttribute("aria-busy", "true");
    try {
      const period = encodeURIComponent(this.period);
      const data = await api(`/api/v1/agent/cash-out/summary?period=${period}`);
      if (generation !== this.generation) return;
      show(status, false);
      this.render(data);
    } catch (error) {
      if (generation !== this.generation) return;
      status.textContent = `Couldn't load the summary. ${error.message}`;
      status.dataset.state = "error";
      show(status, true);
    } finally {
      if (generation === this.generation) byId("summary-panel").setAttribute("aria-busy", "false");
    }
  }

  render(data) {
    const windowText = byId("summary-window");
    const words = PERIOD_WORDS[data.period] ?? data.period;
    windowText.textContent = `${words}: ${exactTime(data.window_start)} – ${exactTime(data.window_end)}`;
    const set = (name, content) => byId(`m-${name}`).replaceChildren(content);
    set("total_cash_outs", data.total_cash_outs.toLocaleString());
    set("unique_customers", data.unique_customers.toLocaleString());
    set("total_stake", formatMoney(data.total_stake));
    set("total_cash_out_amount", formatMoney(data.total_cash_out_amount));
    set("net_profit_loss", plValue(data.net_profit_loss));
    set("auto_cash_out_count", data.auto_cash_out_count.toLocaleString());
    // Null when there were no cash-outs in the window (no share, no mean).
    const percentage = data.auto_cash_out_percentage;
    set("auto_cash_out_percentage", percentage === null ? "n/a" : `${percentage} %`);
    set("avg_return_ratio", data.avg_return_ratio === null ? "n/a" : `${data.avg_return_ratio}×`);

    const list = byId("top-customers");
    list.replaceChildren(...data.top_customers.map(topCustomer));
    show(list, data.top_customers.length > 0);
    show(byId("top-empty"), data.top_customers.length === 0);
  }
}

function hiddenLabel(text) {
  return el("span", { class: "visually-hidden", text });
}

function topCustomer(customer) {
  const count = plural(customer.cash_out_count, "cash-out", "cash-outs");
  return el(
    "li",
    { class: "top-customer", "data-customer-id": customer.customer_id },
    el("a", {
      class: "top-name customer-link",
      href: customerHref(customer.customer_id),
      text: customerName(customer.customer_username, customer.customer_id),
    }),
    el("span", { class: "top-count muted", text: count }),
    el("span", { class: "top-amount" }, hiddenLabel("Cash-out amount "),
      formatMoney(customer.total_cash_out_amount)),
    el("span", { class: "top-pl" }, hiddenLabel("P/L "), plValue(customer.net_profit_loss)),
  );
}
