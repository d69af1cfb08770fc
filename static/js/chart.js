// The daily chart, drawn as SVG by this module: net P/L bars above and below a
// zero line, the cash-out counts as a second row of bars, a few date labels,
// and a tooltip on hover, tap or arrow keys. The sign is told by position
// (above or below zero) and signed numbers, not by colour alone; the page's
// table (daily.js) is the text alternative.

import { el } from "./dom.js";
import { kindOf } from "./money.js";

const NS = "http://www.w3.org/2000/svg";
const GUTTER = 50; // y-axis labels
const PAD_RIGHT = 4;
const GAP = 10; // between the P/L bars and the count row
const COUNT_HEIGHT = 30;
const AXIS_HEIGHT = 20;
const LABEL_WIDTH = 60; // room one date label needs, with a gap
const COUNTS_FROM = 22; // slot width from which each count is written out

const compact = new Intl.NumberFormat(undefined, {
  notation: "compact",
  maximumFractionDigits: 1,
  signDisplay: "exceptZero",
});
const shortDay = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

// The smallest 1, 2, 2.5 or 5 × 10^k at or above x (x > 0), for round axis ends.
function niceCeil(x) {
  const power = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= x) return step * power;
  return 10 * power;
}

// Plain dates ("2026-11-24") as UTC midnights: day arithmetic without DST.
export function dayValue(day) {
  const [y, m, d] = day.split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

export function dayLabel(day) {
  return shortDay.format(new Date(dayValue(day)));
}

export class BarChart {
  // days: [{day, plCents (BigInt), count, ...}]; describe(index) → tooltip node.
  constructor(box, { describe, label }) {
    this.box = box;
    this.describe = describe;
    this.days = [];
    this.today = null;
    this.selected = null;
    this.plot = el("div", {
      class: "chart-plot",
      tabindex: "0",
      role: "group",
      "aria-roledescription": "chart",
      "aria-label": label,
    });
    this.tip = el("div", { class: "chart-tip", hidden: true });
    // Keyboard moves are spoken; hover is not (it would flood a screen reader).
    this.spoken = el("p", { class: "visually-hidden", "aria-live": "polite" });
    box.replaceChildren(this.plot, this.tip, this.spoken);
    this.plot.addEventListener("pointermove", (e) => e.pointerType === "mouse" && this.pick(e));
    this.plot.addEventListener("pointerdown", (e) => this.pick(e));
    this.plot.addEventListener("pointerleave", (e) => e.pointerType === "mouse" && this.select(null));
    this.plot.addEventListener("keydown", (e) => this.onKey(e));
    this.plot.addEventListener("blur", () => this.select(null));
    document.addEventListener("pointerdown", (e) => {
      if (!this.box.contains(e.target)) this.select(null);
    });
    this.width = 0;
    new ResizeObserver(() => {
      if (this.box.clientWidth !== this.width) this.draw();
    }).observe(box);
  }

  setLabel(label) {
    this.plot.setAttribute("aria-label", label);
  }

  render(days, today) {
    const keep = this.selected === null ? null : this.days[this.selected]?.day;
    this.days = days;
    this.today = today;
    this.draw();
    const again = days.findIndex((d) => d.day === keep);
    this.select(again >= 0 ? again : null);
  }

  draw() {
    this.width = this.box.clientWidth;
    const width = Math.max(this.width, 240);
    const narrow = width < 520;
    const plotHeight = narrow ? 150 : 200;
    const countTop = plotHeight + GAP;
    const height = countTop + COUNT_HEIGHT + AXIS_HEIGHT;
    const n = Math.max(this.days.length, 1);
    const slot = (width - GUTTER - PAD_RIGHT) / n;
    const barWidth = Math.max(1, slot * (slot > 12 ? 0.7 : 0.8));
    this.geometry = { slot, n };

    const values = this.days.map((d) => Number(d.plCents));
    const top = Math.max(0, ...values);
    const bottom = Math.min(0, ...values);
    const high = top > 0 ? niceCeil(top) : bottom < 0 ? 0 : 100;
    const low = bottom < 0 ? -niceCeil(-bottom) : 0;
    const y = (v) => 4 + ((high - v) / (high - low)) * (plotHeight - 8);
    const zero = y(0);
    const maxCount = Math.max(1, ...this.days.map((d) => d.count));

    const root = svg("svg", {
      class: "chart-svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      "aria-hidden": "true",
      focusable: "false",
    });
    const axis = svg("g", { class: "chart-axis" });
    for (const [value, cls] of [[high, "grid"], [low, "grid"]]) {
      if (value === 0) continue;
      axis.append(svg("line", { class: cls, x1: GUTTER, x2: width - PAD_RIGHT, y1: y(value), y2: y(value) }));
      const text = compact.format(value / 100).replace("-", "\u2212");
      axis.append(svg("text", { x: GUTTER - 6, y: y(value) + 4, "text-anchor": "end" }, text));
    }
    axis.append(svg("text", { x: GUTTER - 6, y: zero + 4, "text-anchor": "end" }, "0"));
    axis.append(svg("text", { class: "count-axis", x: GUTTER - 6, y: countTop + 11, "text-anchor": "end" },
      `${maxCount}`));
    root.append(axis);

    const bars = svg("g", { class: "chart-days" });
    const step = Math.max(1, Math.ceil(LABEL_WIDTH / slot));
    this.days.forEach((d, i) => {
      const x = GUTTER + i * slot;
      const centre = x + slot / 2;
      const value = values[i];
      const kind = kindOf(d.plCents);
      const group = svg("g", {
        class: `day day-${kind}${d.day === this.today ? " is-today" : ""}`,
        "data-day": d.day,
        "data-pl": d.pl,
        "data-count": d.count,
        "data-kind": kind,
      });
      group.append(svg("rect", { class: "band", x, y: 0, width: slot, height: countTop + COUNT_HEIGHT }));
      if (value !== 0) {
        const end = y(value);
        const h = Math.max(1, Math.abs(end - zero));
        group.append(svg("rect", {
          class: "bar",
          x: centre - barWidth / 2,
          y: value > 0 ? zero - h : zero,
          width: barWidth,
          height: h,
        }));
      }
      if (d.count > 0) {
        const h = Math.max(1, (d.count / maxCount) * (COUNT_HEIGHT - 12));
        group.append(svg("rect", {
          class: "count",
          x: centre - barWidth / 2,
          y: countTop + COUNT_HEIGHT - h,
          width: barWidth,
          height: h,
        }));
        if (slot >= COUNTS_FROM) {
          group.append(svg("text", {
            class: "count-label",
            x: centre,
            y: countTop + COUNT_HEIGHT - h - 2,
            "text-anchor": "middle",
          }, String(d.count)));
        }
      }
      // Labels counted back from the newest day, so today is always labelled.
      if ((this.days.length - 1 - i) % step === 0) {
        const text = d.day === this.today ? "Today" : dayLabel(d.day);
        let anchor = "middle";
        if (centre + LABEL_WIDTH / 2 > width) anchor = "end";
        else if (centre - LABEL_WIDTH / 2 < GUTTER - 10) anchor = "start";
        const at = anchor === "end" ? width - PAD_RIGHT : anchor === "start" ? x : centre;
        group.append(svg("text", { class: "day-label", x: at, y: height - 5, "text-anchor": anchor }, text));
      }
      bars.append(group);
    });
    root.append(bars);
    root.append(svg("line", { class: "zero", x1: GUTTER, x2: width - PAD_RIGHT, y1: zero, y2: zero }));
    this.plot.replaceChildren(root);
    if (this.selected !== null) this.select(this.selected);
  }

  pick(event) {
    if (this.days.length === 0) return;
    const rect = this.plot.getBoundingClientRect();
    const index = Math.floor((event.clientX - rect.left - GUTTER) / this.geometry.slot);
    this.select(Math.min(this.days.length - 1, Math.max(0, index)));
  }

  onKey(event) {
    const last = this.days.length - 1;
    if (last < 0) return;
    const at = this.selected ?? last + 1;
    const moves = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: last };
    if (event.key === "Escape") {
      this.select(null);
      return;
    }
    if (!(event.key in moves)) return;
    event.preventDefault();
    const index = Math.min(last, Math.max(0, moves[event.key]));
    this.select(index);
    this.spoken.textContent = this.tip.textContent;
  }

  select(index) {
    this.selected = index;
    for (const group of this.plot.querySelectorAll(".day.is-selected")) group.classList.remove("is-selected");
    if (index === null || !this.days[index]) {
      this.tip.hidden = true;
      return;
    }
    this.plot.querySelectorAll(".day")[index]?.classList.add("is-selected");
    this.tip.replaceChildren(this.describe(this.days[index]));
    this.tip.hidden = false;
    // Beside the day (towards the middle), so the day's own bars stay in view;
    // kept inside the box, so it never widens a phone's page.
    const start = GUTTER + index * this.geometry.slot;
    const end = start + this.geometry.slot;
    const tipWidth = this.tip.offsetWidth;
    const boxWidth = this.box.clientWidth;
    const left = end + tipWidth + 8 <= boxWidth && (start < boxWidth / 2 || start - tipWidth - 8 < 0)
      ? end + 8
      : start - tipWidth - 8;
    this.tip.style.left = `${Math.max(0, Math.min(left, boxWidth - tipWidth))}px`;
  }
}
