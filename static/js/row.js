// One cash-out as a table row (a card on phones: the CSS uses each cell's data-label).

import { el } from "./dom.js";
import { customerName, exactTime, NO_SELECTION, reasonLabel, relativeTime } from "./format.js";
import { customerHref } from "./filters.js";
import { formatCents, formatMoney, kindOf, toCents } from "./money.js";

const PL_WORDS = { gain: "gain", loss: "loss", zero: "break-even" };
const PL_ICONS = { gain: "▲", loss: "▼", zero: "●" };

// Profit/loss told three ways: sign, icon and (for screen readers) a word; colour is extra.
// Takes the API's decimal string, or cents as a BigInt.
export function plValue(text) {
  const cents = typeof text === "bigint" ? text : toCents(text);
  const kind = kindOf(cents);
  return el(
    "span",
    { class: `pl pl-${kind}`, title: `Customer ${PL_WORDS[kind]}` },
    el("span", { class: "pl-icon", "aria-hidden": "true", text: PL_ICONS[kind] }),
    el("span", { class: "pl-amount", text: formatCents(cents, { signed: true }) }),
    el("span", { class: "visually-hidden", text: ` (${PL_WORDS[kind]})` }),
  );
}

export function timeElement(iso) {
  return el("time", {
    class: "when",
    datetime: iso,
    title: exactTime(iso),
    tabindex: "0",
    "data-exact": exactTime(iso),
    text: relativeTime(iso),
  });
}

function typeCell(item) {
  const reason = reasonLabel(item.cash_out_trigger_reason);
  const cell = el("td", { class: "cell-type", "data-label": "Type" });
  if (item.is_auto_cash_out) {
    cell.append(el("span", { class: "badge badge-auto", text: "Auto" }));
    cell.append(el("span", { class: "reason", text: reason ?? "Reason not given" }));
  } else {
    cell.append(el("span", { class: "reason reason-manual", text: reason ?? "Manual" }));
  }
  return cell;
}

export function renderRow(item) {
  const row = el(
    "tr",
    // Explicit roles keep the table's meaning when phones lay rows out as cards.
    { class: "row", role: "row", "data-bet-id": item.bet_id },
    el("td", { class: "cell-time", "data-label": "Time" }, timeElement(item.settled_at)),
    el("td", { class: "cell-customer", "data-label": "Customer" },
      el("a", {
        class: "customer-link",
        href: customerHref(item.customer_id),
        text: customerName(item.customer_username, item.customer_id),
      })),
    el("td", { class: "cell-selection", "data-label": "Selection", title: item.selection },
      el("span", { class: "selection-text", text: item.selection ?? NO_SELECTION })),
    el("td", { class: "num cell-stake", "data-label": "Stake", text: formatMoney(item.stake) }),
    el("td", {
      class: "num cell-amount",
      "data-label": "Cash-out",
      text: formatMoney(item.cash_out_amount),
    }),
    el("td", { class: "num cell-pl", "data-label": "P/L" }, plValue(item.profit_loss)),
    el("td", { class: "num cell-ratio", "data-label": "Return", text: `${item.return_ratio}×` }),
    typeCell(item),
  );
  row.item = item;
  return row;
}

export function refreshTimes(root) {
  for (const node of root.querySelectorAll("time.when")) {
    node.textContent = relativeTime(node.getAttribute("datetime"));
  }
}
