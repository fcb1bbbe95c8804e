// The caller's token, shared by the playground and the dashboards: kept in this page's
// memory only, never in localStorage, sessionStorage or a cookie.
"use strict";
window.Session = (function () {
  let token = null;
  const config = JSON.parse(document.getElementById("config").textContent || "{}");
  if (config.token) token = config.token;

  async function graphql(query, variables, operationName) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables: variables || {}, operationName: operationName || undefined }),
    });
    return response.json();
  }

  // Checks `candidate` by asking who it belongs to; keeps it only if the service accepts it.
  async function use(candidate) {
    const previous = token;
    token = candidate;
    const body = await graphql("{ viewer { partner { code name } scopes } }");
    if (body.errors || !body.data) {
      token = previous;
      const error = (body.errors && body.errors[0]) || { message: "no answer" };
      throw new Error(error.message + (error.extensions ? " (" + error.extensions.code + ")" : ""));
    }
    return body.data.viewer;
  }

  // Wires the token form of the page's header; `onReady(viewer)` runs once a token is accepted.
  function bind(onReady) {
    const form = document.getElementById("token-form");
    const input = document.getElementById("token");
    const who = document.getElementById("who");
    const error = document.getElementById("token-error");
    if (config.signIn) document.getElementById("sign-in").hidden = false;
    async function accept(candidate) {
      try {
        const viewer = await use(candidate);
        who.textContent = viewer.partner.name + " (" + viewer.partner.code + ")";
        if (error) error.hidden = true;
        onReady(viewer);
      } catch (e) {
        if (error) {
          error.textContent = "That token was not accepted: " + e.message;
          error.hidden = false;
        }
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const candidate = input.value.trim().replace(/^Bearer\s+/i, "");
      input.value = "";
      if (candidate) accept(candidate);
    });
    if (token) accept(token);
  }

  return { graphql, bind, token: () => token };
})();
