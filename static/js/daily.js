// The daily net P/L panel: 7 / 30 / 90 days in the browser's time zone, for all
// customers or one, as a chart (chart.js) and as a table (the text alternative).
//
// Live: a cash-out from the stream re-fetches the series, debounced, rather than
// adding the event's amounts to today's bar. The series and the stream are read
// at different moments, so adding events could count one twice (an event that
// committed before the series was read and is then replayed by the stream);
// re-fetching gives exactly the list's figures, and also follows midnight.

import { api } from "./api.js";
import { byId, el, show } from "./dom.js";
import { BarChart, dayLabel, dayValue } from "./chart.js";
import { browserTimeZone, plural } from "./format.js";
import { formatMoney, toCents } from "./money.js";
import { plValue } from "./row.js";

export const DAYS = [7, 30, 90];
const DAILY = "/api/v1/agent/cash-out/daily";
const REFRESH_DEBOUNCE_MS = 1000;
const CLOCK_CHECK_MS = 60000;
// Backfills (bets inserted already cashed out) send no event: re-read now and then.
const REFRESH_EVERY_MS = 300000;
const DAY_MS = 86400000;
const tipDay = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  timeZone: "UTC",
});
const longDay = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});

// Today's date in the browser's zone, as YYYY-MM-DD.
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function addDays(day, n) {
  return new Date(dayValue(day) + n * DAY_MS).toISOString().slice(0, 10);
}

function shortDay(day) {
  return tipDay.format(new Date(dayValue(day)));
}

function fullDay(day) {
  return longDay.format(new Date(dayValue(day)));
}

function describeDay(d) {
  const auto = d.auto > 0 ? ` (${d.auto} auto)` : "";
  return el(
    "div",
    {},
    el("p", { class: "tip-head" },
      el("span", { class: "tip-day", text: `${shortDay(d.day)}: ` }),
      el("span", { class: "visually-hidden", text: "net P/L " }),
      plValue(d.pl)),
    el("p", { text: `${plural(d.count, "cash-out", "cash-outs")}${auto}` }),
    el("p", { class: "tip-money", text: `Cash-out ${formatMoney(d.amount)} · stake ${formatMoney(d.stake)}` }),
  );
}

export class Daily {
  constructor(onDaysChange) {
    this.onDaysChange = onDaysChange;
    this.customerId = "";
    this.days = 30;
    this.generation = 0;
    this.timer = null;
    this.clock = null;
    this.today = null;
    this.loadedAt = 0;
    this.status = byId("chart-status");
    this.chart = new BarChart(byId("chart"), { describe: describeDay, label: "Daily net P/L" });
    this.buttons = [...document.querySelectorAll(".chart [data-days]")];
    for (const button of this.buttons) {
      button.addEventListener("click", () => {
        const days = Number(button.dataset.days);
        if (days === this.days) return;
        this.show({ customerId: this.customerId, days });
        this.onDaysChange(days);
      });
    }
    const toggle = byId("chart-table-toggle");
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide table" : "Show as table";
      // Hidden visually only: a screen reader reaches the table either way.
      byId("chart-table").classList.toggle("visually-hidden", !open);
    });
  }

  // Which series to show: customerId "" for all customers.
  show({ customerId = "", days = 30 }) {
    this.customerId = customerId;
    this.days = DAYS.includes(days) ? days : 30;
    for (const button of this.buttons) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.days) === this.days));
    }
    clearInterval(this.clock);
    this.clock = setInterval(() => {
      if (localToday() !== this.today || Date.now() - this.loadedAt > REFRESH_EVERY_MS) this.load();
    }, CLOCK_CHECK_MS);
    return this.load();
  }

  stop() {
    clearInterval(this.clock);
    clearTimeout(this.timer);
    this.clock = null;
    this.timer = null;
    this.generation += 1;
  }

  // item: the cash-out that arrived, or nothing when the list was reloaded.
  refreshSoon(item = null) {
    if (this.clock === null) return;
    if (this.customerId && item && String(item.customer_id) !== this.customerId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), REFRESH_DEBOUNCE_MS);
  }

  async load() {
    const generation = ++this.generation;
    this.loadedAt = Date.now();
    const today = localToday();
    const tz = browserTimeZone();
    const params = new URLSearchParams({ date_from: addDays(today, 1 - this.days), date_to: today, tz });
    if (this.customerId) params.set("customer_id", this.customerId);
    byId("chart").setAttribute("aria-busy", "true");
    try {
      const data = await api(`${DAILY}?${params}`);
      if (generation !== this.generation) return;
      show(this.status, false);
      this.today = today;
      this.render(data);
    } catch (error) {
      if (generation !== this.generation) return;
      this.status.textContent = `Couldn't load the daily figures. ${error.message}`;
      this.status.dataset.state = "error";
      show(this.status, true);
    } finally {
      if (generation === this.generation) byId("chart").setAttribute("aria-busy", "false");
    }
  }

  render(data) {
    const days = data.items.map((item) => ({
      day: item.day,
      pl: item.net_profit_loss,
      plCents: toCents(item.net_profit_loss),
      count: item.cash_outs,
      auto: item.auto_cash_outs,
      amount: item.total_cash_out_amount,
      stake: item.total_stake,
    }));
    const total = days.reduce((sum, d) => sum + d.plCents, 0n);
    const count = days.reduce((sum, d) => sum + d.count, 0);
    const who = this.customerId ? "this customer" : "your customers";
    const range = `Last ${this.days} days (${dayLabel(data.date_from)} – ${dayLabel(data.date_to)}, ${data.tz})`;
    byId("chart-caption").replaceChildren(
      `${range}: ${plural(count, "cash-out", "cash-outs")}, net P/L `,
      plValue(total),
    );
    this.chart.setLabel(
      `Daily net P/L of ${who}, ${range.toLowerCase()}. Arrow keys move between days;` +
        " the table after the chart lists every day.",
    );
    this.chart.render(days, this.today);
    byId("chart-table-caption").textContent = `Daily net P/L of ${who}, oldest first`;
    byId("chart-table-body").replaceChildren(
      ...days.map((d) =>
        el(
          "tr",
          { "data-day": d.day },
          // The year is in the caption's range; a short day fits a phone.
          el("th", { scope: "row" }, el("time", { datetime: d.day, title: fullDay(d.day), text: shortDay(d.day) })),
          el("td", { class: "num", text: d.count.toLocaleString() }),
          el("td", { class: "num", text: d.auto.toLocaleString() }),
          el("td", { class: "num", text: formatMoney(d.amount) }),
          el("td", { class: "num" }, plValue(d.pl)),
        ),
      ),
    );
  }
}
