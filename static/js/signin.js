// The sign-in form: its notices, its errors and the login request.

import { api, ApiError } from "./api.js";
import { byId, show } from "./dom.js";

export function showSignIn(notice = "") {
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

// onAgent(agent) runs once the server has accepted the username and password.
export function handleSignIn(onAgent) {
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
      onAgent(result.agent);
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
}
