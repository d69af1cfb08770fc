// The feed page: sign-in, then the summary, the daily chart, the filtered list and
// the live stream; a customer's drill-down (#customer=42&period=30) narrows the
// chart and the list to that customer and shows their own summary instead.

import { api, ApiError, onUnauthorized } from "./api.js";
import { CustomerPanel } from "./customer.js";
import { Daily } from "./daily.js";
import { byId, el, show } from "./dom.js";
import { Feed } from "./feed.js";
import { apiParams, rangeError } from "./filters.js";
import { displayName } from "./format.js";
import { LiveStream } from "./live.js";
import { Navigation } from "./navigation.js";
import { handleSignIn, showSignIn } from "./signin.js";
import { Summary } from "./summary.js";
import { Toaster } from "./toast.js";

const RESET_LIMIT = 5; // resets within RESET_WINDOW_MS before we slow down
const RESET_WINDOW_MS = 30000;

const page = {
  agent: null,
  customers: new Map(),
  customersLoaded: false,
  resets: [],
  retryTimer: null,
};

const nav = new Navigation(onNavigation);
const feed = new Feed();
const toaster = new Toaster();
const summary = new Summary((period) => nav.setFilters({ ...nav.filters, period }));
const daily = new Daily((days) => nav.setDays(days));
const customerPanel = new CustomerPanel();
const stream = new LiveStream({
  onItem(item) {
    if (nav.drill) customerPanel.refreshSoon(item);
    else summary.refreshSoon();
    daily.refreshSoon(item);
    if (feed.addLive(item)) toaster.push(item);
  },
  onReset() {
    daily.refreshSoon();
    reloadList({ throttle: true });
  },
  async checkSession() {
    try {
      await api("/api/v1/agent/me");
      return true;
    } catch {
      return false;
    }
  },
});

onUnauthorized(() => {
  if (page.agent !== null) signedOut("Your session has ended. Sign in again to continue.");
});

// ---- start-up, sign-in and sign-out ---------------------------------------------------

async function boot() {
  show(byId("boot-retry"), false);
  byId("boot-text").textContent = "Loading…";
  let state;
  try {
    state = await api("/api/v1/auth/session");
  } catch (error) {
    byId("boot-text").textContent = `Couldn't reach the feed. ${error.message}`;
    show(byId("boot-retry"), true);
    return;
  }
  show(byId("boot"), false);
  if (state && state.agent) enterFeed(state.agent);
  else showSignIn();
}

byId("boot-retry").addEventListener("click", boot);
handleSignIn(enterFeed);

function leaveFeed() {
  page.agent = null;
  nav.stop();
  clearTimeout(page.retryTimer);
  stream.stop();
  summary.stop();
  daily.stop();
  customerPanel.close();
  toaster.clear();
  feed.generation += 1;
  // The next agent to sign in here has customers of their own.
  page.customersLoaded = false;
  page.customers = new Map();
  byId("filter-customer").replaceChildren(el("option", { value: "", text: "All customers" }));
}

function signedOut(notice) {
  leaveFeed();
  showSignIn(notice);
}

byId("signout").addEventListener("click", async () => {
  leaveFeed();
  try {
    await api("/api/v1/auth/logout", { method: "POST", expect401: true });
  } catch {
    // Signing out locally still matters when the server can't be reached.
  }
  showSignIn("You have signed out.");
});

// ---- the feed and the drill-down --------------------------------------------------------

function enterFeed(agent) {
  page.agent = agent;
  byId("agent-name").textContent = displayName(agent);
  show(byId("signin-view"), false);
  show(byId("feed-view"), true);
  nav.start();
  syncControls();
  loadCustomers();
  applyView();
}

// The list's filters: the feed's own, or in a drill-down just the customer.
function listFilters() {
  if (nav.drill === null) return nav.filters;
  return { ...nav.filters, customer_id: nav.drill.customer_id, date_from: "", date_to: "" };
}

// Shows the feed or a customer's drill-down, as the address says, and loads it.
function applyView() {
  const drill = nav.drill;
  for (const node of document.querySelectorAll(".summary, #filters")) show(node, drill === null);
  show(byId("customer-panel"), drill !== null);
  if (drill === null) {
    customerPanel.close();
    byId("chart-title").textContent = "Daily net P/L";
    byId("feed-title").textContent = "Cash-outs";
    summary.start(nav.filters.period);
    daily.show({ days: nav.filters.days });
  } else {
    summary.stop();
    show(byId("filter-error"), false);
    nav.markDrill();
    customerPanel.open(drill.customer_id, page.customers.get(drill.customer_id));
    byId("chart-title").textContent = "Their daily net P/L";
    byId("feed-title").textContent = "Their cash-outs";
    daily.show({ customerId: drill.customer_id, days: drill.days });
    window.scrollTo(0, 0);
    byId("customer-title").focus({ preventScroll: true });
  }
  updateExportLink();
  reloadList();
}

function onNavigation(previous) {
  syncControls();
  if (JSON.stringify(nav.drill) !== JSON.stringify(previous.drill)) {
    applyView();
    return;
  }
  if (nav.drill === null) {
    if (nav.filters.period !== previous.filters.period) summary.select(nav.filters.period);
    if (nav.filters.days !== previous.filters.days) daily.show({ days: nav.filters.days });
  }
  reloadList();
}

byId("customer-back").addEventListener("click", () => nav.backToFeed());

async function loadCustomers() {
  if (page.customersLoaded) return;
  try {
    const data = await api("/api/v1/agent/customers");
    page.customers = new Map(data.items.map((c) => [String(c.id), c]));
    if (nav.drill) customerPanel.name(page.customers.get(nav.drill.customer_id));
    const select = byId("filter-customer");
    select.replaceChildren(
      el("option", { value: "", text: "All customers" }),
      ...data.items.map((c) => el("option", { value: String(c.id), text: customerLabel(c) })),
    );
    page.customersLoaded = true;
    const wanted = nav.filters.customer_id;
    if (wanted && !page.customers.has(wanted)) {
      // A bookmarked customer who is no longer this agent's: show everyone instead.
      applyFilters({ ...nav.filters, customer_id: "" }, { push: false });
    } else {
      syncControls();
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    const note = byId("filter-error");
    note.textContent = `Couldn't load the customer list. ${error.message}`;
    show(note, true);
  }
}

function customerLabel(customer) {
  const name = displayName(customer);
  return customer.username && name !== customer.username ? `${name} (${customer.username})` : name;
}

async function reloadList({ throttle = false, attempt = 0 } = {}) {
  clearTimeout(page.retryTimer);
  stream.stop(attempt > 0 || throttle ? "reconnecting" : "connecting");
  if (throttle) {
    const now = Date.now();
    page.resets = page.resets.filter((at) => now - at < RESET_WINDOW_MS);
    page.resets.push(now);
    if (page.resets.length > RESET_LIMIT) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      if (page.agent === null) return;
    }
  }
  const generation = feed.generation + 1;
  const lastEventId = await feed.reload(listFilters());
  if (page.agent === null || feed.generation !== generation) return;
  if (lastEventId !== undefined) {
    stream.start(lastEventId);
  } else if (!(feed.lastError?.status >= 400 && feed.lastError?.status < 500)) {
    // The list failed (server away, database down): try again by itself, backing off.
    stream.stop(navigator.onLine ? "reconnecting" : "offline");
    const delay = Math.min(30000, 2000 * 2 ** Math.min(attempt, 4));
    page.retryTimer = setTimeout(() => reloadList({ attempt: attempt + 1 }), delay);
  }
}

// ---- the filter controls ------------------------------------------------------------------

function syncControls() {
  const select = byId("filter-customer");
  const wanted = nav.filters.customer_id;
  if (wanted && ![...select.options].some((option) => option.value === wanted)) {
    // Until the customer list arrives, the bookmarked choice still shows.
    select.append(el("option", { value: wanted, text: `Customer #${wanted}` }));
  }
  select.value = nav.filters.customer_id;
  byId("filter-from").value = nav.filters.date_from;
  byId("filter-to").value = nav.filters.date_to;
  updateExportLink();
}

function updateExportLink() {
  byId("export-link").href = `/api/v1/agent/cash-out/activity/export?${apiParams(listFilters())}`;
}

function applyFilters(filters, { push = true } = {}) {
  const problem = rangeError(filters);
  const note = byId("filter-error");
  note.textContent = problem ?? "";
  show(note, Boolean(problem));
  if (problem) return;
  nav.setFilters(filters, { push });
  syncControls();
  reloadList();
}

function filtersFromControls() {
  return {
    ...nav.filters,
    customer_id: byId("filter-customer").value,
    date_from: byId("filter-from").value,
    date_to: byId("filter-to").value,
  };
}

const filterForm = byId("filters");
filterForm.addEventListener("change", () => applyFilters(filtersFromControls()));
filterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilters(filtersFromControls());
});
filterForm.addEventListener("reset", (event) => {
  event.preventDefault();
  applyFilters({ ...nav.filters, customer_id: "", date_from: "", date_to: "" });
});

boot();
