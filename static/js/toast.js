// Toasts for new cash-outs. Events that arrive together (a replay, a burst) become
// one toast; the container is a polite live region, so screen readers hear it too.

import { byId, el } from "./dom.js";
import { formatCents, kindOf, toCents } from "./money.js";
import { customerName, plural, reasonLabel } from "./format.js";

const GROUP_MS = 300;
const SHOW_MS = 6000;
const MAX_TOASTS = 3;

export class Toaster {
  constructor() {
    this.root = byId("toasts");
    this.pending = [];
    this.timer = null;
  }

  push(item) {
    this.pending.push(item);
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), GROUP_MS);
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.root.replaceChildren();
  }

  flush() {
    const items = this.pending;
    this.pending = [];
    this.timer = null;
    if (items.length === 0) return;
    const pl = items.reduce((sum, item) => sum + toCents(item.profit_loss), 0n);
    const plText = `P/L ${formatCents(pl, { signed: true })}`;
    let title;
    let detail;
    if (items.length === 1) {
      const [item] = items;
      const reason =
        reasonLabel(item.cash_out_trigger_reason) ?? (item.is_auto_cash_out ? "Auto" : "Manual");
      title = `New cash-out: ${customerName(item.customer_username, item.customer_id)}`;
      detail = `${plText} · ${item.is_auto_cash_out ? `Auto, ${reason}` : reason}`;
    } else {
      title = `${plural(items.length, "new cash-out", "new cash-outs")}`;
      detail = plText;
    }
    const toast = el(
      "div",
      { class: `toast toast-${kindOf(pl)}` },
      el("p", { class: "toast-title", text: title }),
      el("p", { class: "toast-detail", text: detail }),
    );
    const close = el("button", {
      class: "toast-close",
      type: "button",
      "aria-label": "Dismiss notification",
      text: "×",
    });
    close.addEventListener("click", () => toast.remove());
    toast.append(close);
    this.root.append(toast);
    while (this.root.childElementCount > MAX_TOASTS) this.root.firstElementChild.remove();
    // Stays while pointed at or focused, so it can be read at one's own pace.
    let timer = setTimeout(() => toast.remove(), SHOW_MS);
    const hold = () => clearTimeout(timer);
    const release = () => {
      clearTimeout(timer);
      timer = setTimeout(() => toast.remove(), SHOW_MS);
    };
    toast.addEventListener("mouseenter", hold);
    toast.addEventListener("focusin", hold);
    toast.addEventListener("mouseleave", release);
    toast.addEventListener("focusout", release);
  }
}
