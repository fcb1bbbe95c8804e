// The caller's token, shared by the playground and the dashboards: kept in this page's
// memory only, never in localStorage, sessionStorage or a cookie.
"use strict";
window.Session = (function () {
  let token = null;
  const config = JSON.parse(document.getElementById("config").textContent || "{}");
  if (config.token) token = config.token;

  function post(path, query, variables, operationName, extensions) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables: variables || {}, operationName: operationName || undefined, extensions }),
    });
  }

  // A GET of one of the service's paths with the token (a report, say): the Response.
  function get(path) {
    return fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {} });
  }

  // One request over HTTP; `extensions` (such as `{ dryRun: true }`) beside the query.
  async function graphql(query, variables, operationName, extensions) {
    return (await post("/graphql", query, variables, operationName, extensions)).json();
  }

  // The answer to a question as a file (`POST /graphql/export`): `format` is csv,
  // parquet or xlsx, `table` the table's path in the answer. A Blob, or an Error with
  // the service's message and code.
  async function exportFile(format, table, query, variables, operationName) {
    const response = await post("/graphql/export?" + new URLSearchParams({ format, table }), query, variables, operationName);
    if (response.ok) return response.blob();
    const body = await response.json().catch(() => ({}));
    const error = (body.errors && body.errors[0]) || { message: response.statusText };
    throw new Error(error.message + (error.extensions ? " (" + error.extensions.code + ")" : ""));
  }

  // A subscription over WebSocket at /graphql/ws (graphql-transport-ws), the token in
  // `connection_init`: an async iterator of its results, ended by `return()` (which
  // closes the connection) or by the service. A refused connection ends with one result
  // carrying the error.
  function subscribe(query, variables, operationName) {
    const results = [];
    const waiting = [];
    let done = false;
    const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/graphql/ws", "graphql-transport-ws");
    const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));
    const push = (result) => {
      const next = waiting.shift();
      if (next) next({ value: result, done: false });
      else results.push(result);
    };
    const finish = () => {
      done = true;
      while (waiting.length) waiting.shift()({ value: undefined, done: true });
    };
    socket.onopen = () => send({ type: "connection_init", payload: { Authorization: "Bearer " + token } });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        send({ id: "1", type: "subscribe", payload: { query, variables: variables || {}, operationName: operationName || undefined } });
      } else if (message.type === "ping") {
        send({ type: "pong" });
      } else if (message.type === "next") {
        push(message.payload);
      } else if (message.type === "error") {
        push({ errors: message.payload });
        socket.close(1000);
      } else if (message.type === "complete") {
        socket.close(1000);
      }
    };
    socket.onclose = (event) => {
      if (done) return;
      if (event.code !== 1000) push({ errors: [{ message: "the live connection closed: " + (event.reason || "code " + event.code) }] });
      finish();
    };
    return {
      next: () =>
        results.length
          ? Promise.resolve({ value: results.shift(), done: false })
          : done
            ? Promise.resolve({ value: undefined, done: true })
            : new Promise((resolve) => waiting.push(resolve)),
      return() {
        send({ id: "1", type: "complete" });
        finish();
        socket.close(1000);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
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

  return { get, graphql, exportFile, subscribe, bind, token: () => token };
})();
