// Words and times for people: trigger reasons, relative and exact times.

const REASONS = new Map([
  ["manual", "Manual"],
  ["profit_target", "Profit target"],
  ["auto_profit_target", "Profit target"],
  ["stop_loss", "Stop loss"],
  ["auto_stop_loss", "Stop loss"],
  ["threshold", "Threshold"],
  ["auto_threshold", "Threshold"],
]);

// A reason the page does not know yet still reads as words: "auto_trailing_stop"
// becomes "Trailing stop".
export function reasonLabel(reason) {
  if (reason === null || reason === undefined) return null;
  const key = String(reason).trim().toLowerCase();
  if (!key) return null;
  if (REASONS.has(key)) return REASONS.get(key);
  const words = key.replace(/^auto[_\-\s]+/, "").replace(/[_\-\s]+/g, " ").trim();
  if (!words) return null;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
const shortDate = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 10) return "just now";
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 7) return relative.format(Math.round(seconds / 86400), "day");
  return shortDate.format(new Date(iso));
}

export function exactTime(iso) {
  return exact.format(new Date(iso));
}

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function plural(count, one, many) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

// The platform may leave names and selections empty (null): show what there is.
export const NO_SELECTION = "\u2014";

export function customerName(username, id) {
  return username || `Customer #${id}`;
}

// A customer's own name when there is one, else their username.
export function displayName(person) {
  return person.display_name || person.username || `#${person.id}`;
}
