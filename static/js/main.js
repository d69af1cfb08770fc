// The feed page: sign-in, then the summary, the daily chart, the filtered list and
// the live stream; a customer's drill-down (#customer=42&period=30) narrows the
// chart and the list to that customer and shows their own summary instead.

import { api, ApiError, onUnauthorized } from "./api.js";
import { CustomerPanel } from "./customer.js";
import { Daily } from "./daily.js";
import { byId, el, show } from "./dom.js";
import { Feed } from "./feed.js";
import { apiParams, drillHash, pageQuery, rangeError, readDrill, readFilters } from "./filters.js";
import { displayName } from "./format.js";
import { LiveStream } from "./live.js";
import { Summary } from "./summary.js";
import { Toaster } from "./toast.js";

const RESET_LIMIT = 5; // resets within RESET_WINDOW_MS before we slow down
const RESET_WINDOW_MS = 30000;

const page = {
  agent: null,
  filters: readFilters(location.search),
  // The open customer drill-down ({customer_id, days}) or null for the feed.
  drill: readDrill(location.hash),
  // Whether the drill-down was opened from the feed in this page (Back then
  // returns there) or straight from a shared link.
  drillFromFeed: false,
  customers: new Map(),
  customersLoaded: false,
  resets: [],
  retryTimer: null,
};

const feed = new Feed();
const toaster = new Toaster();
const summary = new Summary((period) => {
  page.filters = { ...page.filters, period };
  history.replaceState(null, "", location.pathname + pageQuery(page.filters));
});
const daily = new Daily((days) => {
  if (page.drill) {
    page.drill = { ...page.drill, days };
    const url = location.pathname + location.search + drillHash(page.drill);
    history.replaceState(history.state, "", url);
  } else {
    page.filters = { ...page.filters, days };
    history.replaceState(null, "", location.pathname + pageQuery(page.filters));
  }
});
const customerPanel = new CustomerPanel();
const stream = new LiveStream({
  onItem(item) {
    if (page.drill) customerPanel.refreshSoon(item);
    else summary.refreshSoon();
    daily.refreshSoon(item);
    if (feed.addLive(item)) toaster.push(item);
  },
  onReset() {
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

// ---- start-up -----------------------------------------------------------------

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

// ---- sign-in and sign-out -----------------------------------------------------------

function showSignIn(notice = "") {
  show(byId("feed-view"), false);
  show(byId("signin-view"), true);
  const noticeNode = byId("signin-notice");
  noticeNode.textContent = notice;
  show(noticeNode, Boolean(notice));
  show(byId("signin-error"), false);
  byId("signin-password").value = "";
  byId("signin-username").focus();
}

function signInError(text) {
  const node = byId("signin-error");
  node.textContent = text;
  show(node, true);
}

byId("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = byId("signin-username").value.trim();
  const password = byId("signin-password").value;
  if (!username || !password) {
    signInError("Enter your username and your password.");
    (username ? byId("signin-password") : byId("signin-username")).focus();
    return;
  }
  const button = byId("signin-submit");
  button.disabled = true;
  button.textContent = "Signing in…";
  show(byId("signin-error"), false);
  try {
    const result = await api("/api/v1/auth/login", {
      method: "POST",
      body: { username, password },
      expect401: true,
    });
    byId("signin-password").value = "";
    enterFeed(result.agent);
  } catch (error) {
    const text = error instanceof ApiError && error.status === 401
      ? "Wrong username or password. Check both and try again."
      : `Couldn't sign in. ${error.message}`;
    signInError(text);
    byId("signin-password").select();
  } finally {
    button.disabled = false;
    button.textContent = "Sign in";
  }
});

function leaveFeed() {
  page.agent = null;
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

// ---- the feed -------------------------------------------------------------------------

function enterFeed(agent) {
  page.agent = agent;
  byId("agent-name").textContent = displayName(agent);
  show(byId("signin-view"), false);
  show(byId("feed-view"), true);
  page.drillFromFeed = false;
  syncControls();
  loadCustomers();
  applyView();
}

// The list's filters: the feed's own, or in a drill-down just the customer.
function listFilters() {
  if (page.drill === null) return page.filters;
  return { ...page.filters, customer_id: page.drill.customer_id, date_from: "", date_to: "" };
}

// Shows the feed or a customer's drill-down, as page.drill says, and loads it.
function applyView() {
  const drill = page.drill;
  for (const node of document.querySelectorAll(".summary, #filters")) show(node, drill === null);
  show(byId("customer-panel"), drill !== null);
  if (drill === null) {
    customerPanel.close();
    byId("chart-title").textContent = "Daily net P/L";
    byId("feed-title").textContent = "Cash-outs";
    summary.start(page.filters.period);
    daily.show({ days: page.filters.days });
  } else {
    summary.stop();
    show(byId("filter-error"), false);
    // Normalised, so that the address bar can be shared as it is; the entry
    // remembers whether the feed is behind it, for the panel's Back button.
    const state = { drillFromFeed: page.drillFromFeed };
    history.replaceState(state, "", location.pathname + location.search + drillHash(drill));
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

async function loadCustomers() {
  if (page.customersLoaded) return;
  try {
    const data = await api("/api/v1/agent/customers");
    page.customers = new Map(data.items.map((c) => [String(c.id), c]));
    if (page.drill) customerPanel.name(page.customers.get(page.drill.customer_id));
    const select = byId("filter-customer");
    select.replaceChildren(
      el("option", { value: "", text: "All customers" }),
      ...data.items.map((c) => el("option", { value: String(c.id), text: customerLabel(c) })),
    );
    page.customersLoaded = true;
    if (page.filters.customer_id && !data.items.some((c) => String(c.id) === page.filters.customer_id)) {
      // A bookmarked customer who is no longer this agent's: show everyone instead.
      applyFilters({ ...page.filters, customer_id: "" }, { push: false });
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

function syncControls() {
  const select = byId("filter-customer");
  const wanted = page.filters.customer_id;
  if (wanted && ![...select.options].some((option) => option.value === wanted)) {
    // Until the customer list arrives, the bookmarked choice still shows.
    select.append(el("option", { value: wanted, text: `Customer #${wanted}` }));
  }
  select.value = page.filters.customer_id;
  byId("filter-from").value = page.filters.date_from;
  byId("filter-to").value = page.filters.date_to;
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
  page.filters = filters;
  const url = location.pathname + pageQuery(filters) + (page.drill ? drillHash(page.drill) : "");
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  syncControls();
  reloadList();
}

function filtersFromControls() {
  return {
    ...page.filters,
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
  applyFilters({ ...page.filters, customer_id: "", date_from: "", date_to: "" });
});

// Back, forward, a customer's name (a link to #customer=…) or an edited address.
// Both events may come for one navigation: the second finds nothing changed.
function route() {
  if (page.agent === null) return;
  const filters = readFilters(location.search);
  const drill = readDrill(location.hash);
  const previous = page.filters;
  const sameDrill = JSON.stringify(drill) === JSON.stringify(page.drill);
  if (sameDrill && JSON.stringify(filters) === JSON.stringify(previous)) return;
  page.filters = filters;
  syncControls();
  if (!sameDrill) {
    // A new entry (a name clicked in the feed) has no state yet; one we come
    // back or forward to says what it was.
    const known = history.state?.drillFromFeed;
    page.drillFromFeed = drill !== null && (known ?? page.drill === null);
    page.drill = drill;
    applyView();
    return;
  }
  if (drill === null) {
    if (filters.period !== previous.period) summary.select(filters.period);
    if (filters.days !== previous.days) daily.show({ days: filters.days });
  }
  reloadList();
}

window.addEventListener("popstate", route);
window.addEventListener("hashchange", route);

byId("customer-back").addEventListener("click", () => {
  if (page.drillFromFeed) {
    history.back();
  } else {
    // Opened from a shared link: there is no feed behind it in this tab's history.
    history.pushState(null, "", location.pathname + location.search);
    route();
  }
});

boot();
