// Where the page is, kept in its address: the feed's filters in the query string
// (?customer_id=4&date_from=…&period=7d&days=90) and a customer's drill-down in
// the fragment (#customer=42&period=30), so that reload, Back and Forward, a
// bookmark or a shared link all open the same view.

import { drillHash, pageQuery, readDrill, readFilters } from "./filters.js";

export class Navigation {
  // onChange(previous) runs when Back, Forward, a customer's link (#customer=…)
  // or an edited address changed the filters or the drill-down.
  constructor(onChange) {
    this.filters = readFilters(location.search);
    this.drill = readDrill(location.hash);
    // Whether the open drill-down has the feed behind it in this tab's history
    // (opened from a name) or was opened straight from a link.
    this.fromFeed = false;
    this.active = false;
    this.onChange = onChange;
    // Both may come for one navigation: the second finds nothing changed.
    window.addEventListener("popstate", () => this.route());
    window.addEventListener("hashchange", () => this.route());
  }

  // Signed in: the address as it is now (it may have changed while signed out).
  start() {
    this.filters = readFilters(location.search);
    this.drill = readDrill(location.hash);
    this.fromFeed = false;
    this.active = true;
  }

  stop() {
    this.active = false;
  }

  url() {
    return location.pathname + pageQuery(this.filters) + (this.drill ? drillHash(this.drill) : "");
  }

  // Filters chosen on the page: a new history entry, or the same one changed.
  setFilters(filters, { push = false } = {}) {
    this.filters = filters;
    if (push) history.pushState(null, "", this.url());
    else history.replaceState(history.state, "", this.url());
  }

  setDays(days) {
    if (this.drill) this.drill = { ...this.drill, days };
    else this.filters = { ...this.filters, days };
    history.replaceState(history.state, "", this.url());
  }

  // A drill-down's entry, written out in full so that the address can be shared
  // as it is, and remembering whether the feed is behind it.
  markDrill() {
    history.replaceState({ drillFromFeed: this.fromFeed }, "", this.url());
  }

  route() {
    if (!this.active) return;
    const filters = readFilters(location.search);
    const drill = readDrill(location.hash);
    const previous = { filters: this.filters, drill: this.drill };
    const sameDrill = JSON.stringify(drill) === JSON.stringify(this.drill);
    if (sameDrill && JSON.stringify(filters) === JSON.stringify(this.filters)) return;
    if (!sameDrill) {
      // A new entry (a name clicked in the feed) has no state yet; an entry
      // we come back or forward to says what it was.
      const known = history.state?.drillFromFeed;
      this.fromFeed = drill !== null && (known ?? this.drill === null);
    }
    this.filters = filters;
    this.drill = drill;
    this.onChange(previous);
  }

  // The drill-down's "All customers" button.
  backToFeed() {
    if (this.fromFeed) {
      history.back();
    } else {
      history.pushState(null, "", location.pathname + pageQuery(this.filters));
      this.route();
    }
  }
}
