// JSON over fetch with the session cookie. Any 401 (except where the caller
// expects one, like a wrong password) sends the page back to sign-in.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

let unauthorized = () => {};

export function onUnauthorized(handler) {
  unauthorized = handler;
}

export async function api(path, { method = "GET", body, expect401 = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "Can't reach the server. Check your connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401 && !expect401) {
    unauthorized();
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : null;
    throw new ApiError(response.status, detail || describe(response.status));
  }
  return data;
}

function describe(status) {
  if (status === 503) return "The service is briefly unavailable. Try again in a few seconds.";
  if (status >= 500) return "Something went wrong on the server. Try again.";
  return `The request failed (HTTP ${status}).`;
}
