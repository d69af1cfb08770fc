// The list's filters, kept in the URL query string so reloads and bookmarks keep them.
// Dates are plain calendar dates in the browser's time zone, sent with `tz`.

import { browserTimeZone } from "./format.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const PERIODS = ["24h", "7d", "30d"];
export const CHART_DAYS = [7, 30, 90];
const DEFAULT_DAYS = 30;

export function readFilters(search) {
  const params = new URLSearchParams(search);
  const customer = params.get("customer_id") ?? "";
  const from = params.get("date_from") ?? "";
  const to = params.get("date_to") ?? "";
  const period = params.get("period") ?? "";
  return {
    customer_id: /^\d{1,18}$/.test(customer) ? customer : "",
    date_from: DATE.test(from) ? from : "",
    date_to: DATE.test(to) ? to : "",
    period: PERIODS.includes(period) ? period : "24h",
    days: chartDays(params.get("days")),
  };
}

function chartDays(text) {
  const days = Number(text);
  return CHART_DAYS.includes(days) ? days : DEFAULT_DAYS;
}

// The customer drill-down lives in the fragment (#customer=42&period=30, the
// period being the chart's days), so the feed's own filters stay in the query
// string underneath it and Back returns to them.
export function readDrill(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const customer = params.get("customer") ?? "";
  if (!/^\d{1,18}$/.test(customer)) return null;
  return { customer_id: customer, days: chartDays(params.get("period")) };
}

export function drillHash(drill) {
  return `#customer=${drill.customer_id}&period=${drill.days}`;
}

export function customerHref(customerId) {
  return `#customer=${encodeURIComponent(customerId)}`;
}

export function pageQuery(filters) {
  const params = new URLSearchParams();
  for (const key of ["customer_id", "date_from", "date_to"]) {
    if (filters[key]) params.set(key, filters[key]);
  }
  if (filters.period !== "24h") params.set("period", filters.period);
  if (filters.days !== DEFAULT_DAYS) params.set("days", String(filters.days));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function apiParams(filters) {
  const params = new URLSearchParams();
  if (filters.customer_id) params.set("customer_id", filters.customer_id);
  if (filters.date_from) params.set("date_from", filters.date_from);
  if (filters.date_to) params.set("date_to", filters.date_to);
  params.set("tz", browserTimeZone());
  return params;
}

export function rangeError(filters) {
  if (filters.date_from && filters.date_to && filters.date_from > filters.date_to) {
    return "The “From” date is after the “To” date.";
  }
  return null;
}

function localMidnight(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y, m - 1, d);
}

// Whether a live cash-out belongs in the filtered list (same rule as the server's).
export function matches(item, filters) {
  if (filters.customer_id && String(item.customer_id) !== filters.customer_id) return false;
  const at = Date.parse(item.settled_at);
  if (filters.date_from && at < localMidnight(filters.date_from).getTime()) return false;
  if (filters.date_to) {
    const end = localMidnight(filters.date_to);
    end.setDate(end.getDate() + 1);
    if (at >= end.getTime()) return false;
  }
  return true;
}
