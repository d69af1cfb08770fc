// The feed page: sign-in, then the summary, the filtered list and the live stream.

import { api, ApiError, onUnauthorized } from "./api.js";
import { byId, el, show } from "./dom.js";
import { Feed } from "./feed.js";
import { apiParams, pageQuery, rangeError, readFilters } from "./filters.js";
import { LiveStream } from "./live.js";
import { Summary } from "./summary.js";
import { Toaster } from "./toast.js";

const RESET_LIMIT = 5; // resets within RESET_WINDOW_MS before we slow down
const RESET_WINDOW_MS = 30000;

const page = {
  agent: null,
  filters: readFilters(location.search),
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
const stream = new LiveStream({
  onItem(item) {
    summary.refreshSoon();
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
  toaster.clear();
  feed.generation += 1;
  // The next agent to sign in here has customers of their own.
  page.customersLoaded = false;
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
  byId("agent-name").textContent = agent.display_name || agent.username;
  show(byId("signin-view"), false);
  show(byId("feed-view"), true);
  syncControls();
  loadCustomers();
  summary.start(page.filters.period);
  reloadList();
}

async function loadCustomers() {
  if (page.customersLoaded) return;
  try {
    const data = await api("/api/v1/agent/customers");
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
  const { display_name: name, username } = customer;
  return name && name !== username ? `${name} (${username})` : username;
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
  const lastEventId = await feed.reload(page.filters);
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
  byId("export-link").href = `/api/v1/agent/cash-out/activity/export?${apiParams(page.filters)}`;
}

function applyFilters(filters, { push = true } = {}) {
  const problem = rangeError(filters);
  const note = byId("filter-error");
  note.textContent = problem ?? "";
  show(note, Boolean(problem));
  if (problem) return;
  page.filters = filters;
  const url = location.pathname + pageQuery(filters);
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

window.addEventListener("popstate", () => {
  if (page.agent === null) return;
  const previousPeriod = page.filters.period;
  page.filters = readFilters(location.search);
  syncControls();
  if (page.filters.period !== previousPeriod) summary.select(page.filters.period);
  reloadList();
});

boot();
