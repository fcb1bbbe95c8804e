// The playground's code exporter: the request a program should send for the active
// tab's question — with curl, Python, R or JavaScript — with the token read from the
// environment variable CONSORTIUM_TOKEN, never the real one; and a link that opens the
// question (its text and variables, in the link's fragment, which no server receives)
// and nothing else.
"use strict";
window.Exporter = (function () {
  const { element } = Released;
  const TOKEN_VARIABLE = "CONSORTIUM_TOKEN";

  function body(request) {
    const b = { query: request.query };
    if (request.variables && Object.keys(request.variables).length) b.variables = request.variables;
    if (request.operationName) b.operationName = request.operationName;
    return b;
  }

  // A string as a single-quoted shell word.
  function shellWord(text) {
    return "'" + text.replace(/'/g, "'\\''") + "'";
  }

  // A JSON value as an R expression for httr2's req_body_json (lists, vectors of one).
  function rValue(v, indent) {
    const pad = "  ".repeat(indent + 1);
    if (v === null) return "NULL";
    if (Array.isArray(v)) return "list(" + v.map((x) => rValue(x, indent + 1)).join(", ") + ")";
    if (typeof v === "object") {
      const entries = Object.entries(v).map(([k, x]) => pad + "`" + k + "` = " + rValue(x, indent + 1));
      return "list(\n" + entries.join(",\n") + "\n" + "  ".repeat(indent) + ")";
    }
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
    return String(v);
  }

  const LANGUAGES = {
    curl: (url, b) =>
      "curl -sS " + url + " \\\n" +
      "  -H \"Authorization: Bearer $" + TOKEN_VARIABLE + "\" \\\n" +
      "  -H 'Content-Type: application/json' \\\n" +
      "  --data-binary " + shellWord(JSON.stringify(b)),
    Python: (url, b) =>
      "import json, os, urllib.request\n\n" +
      "body = json.loads(" + JSON.stringify(JSON.stringify(b)) + ")\n" +
      "request = urllib.request.Request(\n" +
      "    " + JSON.stringify(url) + ",\n" +
      "    data=json.dumps(body).encode(),\n" +
      "    headers={\"Authorization\": \"Bearer \" + os.environ[\"" + TOKEN_VARIABLE + "\"], \"Content-Type\": \"application/json\"},\n" +
      ")\n" +
      "with urllib.request.urlopen(request) as response:\n" +
      "    answer = json.load(response)\n" +
      "print(json.dumps(answer, indent=2))\n",
    R: (url, b) =>
      "library(httr2)\n\n" +
      "answer <- request(" + JSON.stringify(url) + ") |>\n" +
      "  req_auth_bearer_token(Sys.getenv(\"" + TOKEN_VARIABLE + "\")) |>\n" +
      "  req_body_json(" + rValue(b, 1) + ", auto_unbox = TRUE) |>\n" +
      "  req_perform() |>\n" +
      "  resp_body_json()\n" +
      "str(answer)\n",
    JavaScript: (url, b) =>
      "const response = await fetch(" + JSON.stringify(url) + ", {\n" +
      "  method: \"POST\",\n" +
      "  headers: { Authorization: \"Bearer \" + process.env." + TOKEN_VARIABLE + ", \"Content-Type\": \"application/json\" },\n" +
      "  body: JSON.stringify(" + JSON.stringify(b, null, 2).replace(/\n/g, "\n  ") + "),\n" +
      "});\n" +
      "const answer = await response.json();\n" +
      "console.log(JSON.stringify(answer, null, 2));\n",
  };

  // The code that sends `request` ({ query, variables, operationName }) in `language`.
  function code(language, request) {
    return LANGUAGES[language](location.origin + "/graphql", body(request));
  }

  // A link that opens `request`'s question in the playground.
  function link(request) {
    const fragment = new URLSearchParams({ query: request.query });
    if (request.variables && Object.keys(request.variables).length) fragment.set("variables", JSON.stringify(request.variables));
    return location.origin + "/graphql#" + fragment.toString();
  }

  // The question a link opened with ({ query, variables } or null), read from the
  // page's fragment, which is then cleared.
  function opened() {
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    const query = fragment.get("query");
    if (!query) return null;
    history.replaceState(null, "", location.pathname);
    return { query, variables: fragment.get("variables") || undefined };
  }

  function variablesOf(text) {
    try {
      const parsed = text && text.trim() ? JSON.parse(text) : {};
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
    } catch (_) {
      return {};
    }
  }

  // The exporter as a GraphiQL plugin (its icon as an SVG path), for the active tab's
  // question.
  function plugin() {
    const { useEditorContext } = GraphiQL.React;
    function Content() {
      const editor = useEditorContext({ nonNull: true });
      const tab = editor.tabs[editor.activeTabIndex];
      const [language, setLanguage] = React.useState("curl");
      const [copied, setCopied] = React.useState("");
      const request = { query: tab ? tab.query || "" : "", variables: variablesOf(tab && tab.variables), operationName: tab && tab.operationName };
      const text = code(language, request);
      const share = link(request);
      const copy = (what, content) => () =>
        navigator.clipboard.writeText(content).then(
          () => setCopied(what + " copied"),
          () => setCopied("the browser did not allow copying: select the text instead"),
        );
      const h = React.createElement;
      return h(
        "div",
        { className: "exporter" },
        h("p", null, "The request your program sends for this tab's question. The token comes from the environment variable ", h("code", null, TOKEN_VARIABLE), "; set it to your API token."),
        h(
          "div",
          { className: "exporter-languages", role: "tablist" },
          Object.keys(LANGUAGES).map((l) =>
            h("button", { key: l, type: "button", role: "tab", "aria-selected": l === language, className: l === language ? "active" : "", onClick: () => setLanguage(l) }, l),
          ),
        ),
        h("pre", { className: "exporter-code", "data-language": language }, text),
        h("button", { type: "button", className: "exporter-copy", onClick: copy(language, text) }, "Copy " + language),
        h("h4", null, "Share this question"),
        h("p", null, "A link that opens this question (its text and variables only: never a token or an answer)."),
        h("input", { className: "exporter-link", readOnly: true, value: share, onFocus: (e) => e.target.select() }),
        h("button", { type: "button", className: "exporter-copy-link", onClick: copy("link", share) }, "Copy link"),
        h("p", { role: "status", className: "exporter-status" }, copied),
      );
    }
    return { title: "Code and link", iconPath: "M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16", content: Content };
  }

  return { code, link, opened, variablesOf, plugin };
})();
