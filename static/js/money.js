// Money arrives as decimal strings with two places ("-45.00"). Sums are kept in
// BigInt hundredths so that adding live events never drifts as binary floats would.

const MONEY = /^([+-]?)(\d+)(?:\.(\d{1,2}))?$/;

export function toCents(text) {
  const match = MONEY.exec(String(text).trim());
  if (!match) throw new Error(`not a money amount: ${text}`);
  const cents = BigInt(match[2]) * 100n + BigInt((match[3] ?? "").padEnd(2, "0"));
  return match[1] === "-" ? -cents : cents;
}

export function kindOf(cents) {
  if (cents > 0n) return "gain";
  if (cents < 0n) return "loss";
  return "zero";
}

// U+2212 (minus) reads better than a hyphen; "±" marks an exact zero.
const SIGN = { gain: "+", loss: "\u2212", zero: "\u00b1" };

export function formatCents(cents, { signed = false } = {}) {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const body = `${whole}.${(abs % 100n).toString().padStart(2, "0")}`;
  if (signed) return SIGN[kindOf(cents)] + body;
  return negative ? SIGN.loss + body : body;
}

export function formatMoney(text, options) {
  return formatCents(toCents(text), options);
}
