// The playground's results view: any answer as tables and a chart. Each list of objects
// in the answer becomes a tidy table (one row per item, nested objects as dotted
// columns, a group's keys as one column per dimension, a nested list as a table of its
// own that repeats its parents' identifying columns); a released number stays one cell,
// shown as "withheld (RULE)" when withheld. The chart draws one measure per row as a
// horizontal bar — a withheld value written as withheld, a noisy or perturbed one with
// its 95% margin — and a table downloads as a tidy CSV under its provenance header.
"use strict";
window.Results = (function () {
  const { SVG, isNumber, cell, isCell, element, svg, value, margin } = Released;

  // A group's keys: the list `keys` of { dimension?, code, label? }.
  function isKeys(name, v) {
    return name === "keys" && Array.isArray(v) && v.length > 0 && v.every((k) => k && typeof k === "object" && "code" in k);
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function isRowList(v) {
    return Array.isArray(v) && v.some(isObject);
  }

  // The columns of `object` (plain values and released numbers; nested objects with
  // dotted names; a group's keys as a column per dimension) into `columns`; its lists
  // of objects into `nested`.
  function flatten(object, prefix, columns, nested) {
    for (const [key, v] of Object.entries(object)) {
      const name = prefix + key;
      if (isNumber(v)) columns[name] = cell(v);
      else if (isKeys(key, v)) {
        // A column per dimension (named by it when the question asks for it).
        v.forEach((k, i) => {
          const dimension = k.dimension ? String(k.dimension).toLowerCase() : "key" + (i ? " " + (i + 1) : "");
          columns[dimension] = k.code;
          if (k.label !== undefined && k.label !== k.code) columns[dimension + " label"] = k.label;
        });
      } else if (isRowList(v)) nested.push([name, v]);
      else if (Array.isArray(v)) columns[name] = v.join(" ");
      else if (isObject(v)) flatten(v, name + ".", columns, nested);
      else columns[name] = v;
    }
  }

  // The columns that identify a row (not released numbers): repeated in nested tables.
  function identifying(columns) {
    return Object.fromEntries(Object.entries(columns).filter(([, v]) => !isCell(v)));
  }

  function add(tables, path, row) {
    if (!tables.has(path)) tables.set(path, []);
    tables.get(path).push(row);
  }

  function collect(path, v, inherited, tables) {
    const items = isRowList(v) ? v.filter(isObject) : isObject(v) && !isNumber(v) ? [v] : null;
    if (items === null) {
      if (v !== undefined && v !== null) add(tables, path, { ...inherited, [path]: isNumber(v) ? cell(v) : v });
      return;
    }
    for (const item of items) {
      const columns = {};
      const nested = [];
      flatten(item, "", columns, nested);
      if (Object.keys(columns).length) add(tables, path, { ...inherited, ...columns });
      const identity = { ...inherited, ...identifying(columns) };
      for (const [key, list] of nested) collect(path + "." + key, list, identity, tables);
    }
  }

  // The tables of an answer's `data`: [{ path, header, rows }], rows as arrays of cells.
  function tables(data) {
    const found = new Map();
    for (const [field, v] of Object.entries(data || {})) collect(field, v, {}, found);
    return [...found].map(([path, objects]) => {
      const header = [];
      for (const o of objects) for (const key of Object.keys(o)) if (!header.includes(key)) header.push(key);
      return { path, header, rows: objects.map((o) => header.map((h) => (h in o ? o[h] : ""))) };
    });
  }


  // Horizontal bars of `measure` per row, labelled by `label`; a withheld value written
  // as withheld, a margin drawn as a whisker.
  function chart(table, label, measure, width) {
    const row = 18;
    const top = 8;
    const labelWidth = Math.min(260, Math.round(width * 0.4));
    const plotWidth = width - labelWidth - 70;
    const labelOf = (r) => (label < 0 ? table.header.map((h, i) => (isCell(r[i]) ? null : Released.text(r[i]))).filter(Boolean).join(" · ") : Released.text(r[label]));
    const numbers = table.rows.map((r) => (isCell(r[measure]) ? r[measure].released : { value: r[measure], precision: "EXACT" }));
    const highest = Math.max(1e-9, ...numbers.map((n) => (value(n) ?? 0) + (margin(n) ?? 0)));
    const x = (v) => labelWidth + 8 + (Math.max(0, v) / highest) * plotWidth;
    const height = top + table.rows.length * row + 24;
    const drawing = svg("svg", { xmlns: SVG, width, height, class: "results-chart", "font-family": "sans-serif", "font-size": 11 });
    let withheld = 0;
    table.rows.forEach((r, i) => {
      const y = top + i * row;
      const n = numbers[i];
      const name = labelOf(r);
      // Cut to what the label column holds (about 6.5 px a character); the table has it whole.
      const most = Math.max(4, Math.floor(labelWidth / 6.5));
      const shownName = svg("text", { x: labelWidth, y: y + 12, "text-anchor": "end" }, name.length > most ? name.slice(0, most - 1) + "…" : name);
      shownName.appendChild(svg("title", {}, name));
      drawing.appendChild(shownName);
      const v = value(n);
      if (v === null || Number.isNaN(v)) {
        withheld += 1;
        drawing.appendChild(svg("text", { x: labelWidth + 8, y: y + 12, fill: "#a4161a", "font-style": "italic", class: "withheld" }, Released.shown(n)));
        return;
      }
      drawing.appendChild(svg("rect", { x: labelWidth + 8, y: y + 3, width: Math.max(1, x(v) - labelWidth - 8), height: row - 6, fill: "#2c7da0", class: "bar" }));
      const m = margin(n);
      if (m !== null) {
        const [lo, hi] = [x(v - m), x(v + m)];
        drawing.appendChild(svg("path", { d: `M${lo} ${y + 9}H${hi}M${lo} ${y + 5}V${y + 13}M${hi} ${y + 5}V${y + 13}`, stroke: "#1f2933", class: "margin" }));
      }
      drawing.appendChild(svg("text", { x: x(v + (m ?? 0)) + 4, y: y + 12, fill: "#52606d" }, Released.shown(n)));
    });
    const bottom = top + table.rows.length * row + 16;
    drawing.appendChild(svg("text", { x: labelWidth + 8, y: bottom, fill: "#52606d" }, table.header[measure] + (withheld ? " — " + withheld + " withheld" : "")));
    drawing.dataset.withheld = String(withheld);
    return drawing;
  }

  function select(labelText, options, chosen, onChange) {
    const wrap = element("label", {}, labelText + " ");
    const box = element("select");
    options.forEach(([v, text]) => {
      const option = element("option", { value: String(v) }, text);
      if (v === chosen) option.selected = true;
      box.appendChild(option);
    });
    box.addEventListener("change", () => onChange(Number(box.value)));
    wrap.appendChild(box);
    return wrap;
  }

  // Fills `root` with the view of `answer` (a response as the service sent it) to
  // `request` ({ query, variables, operationName }), named `title`; `state` keeps the
  // chosen table, label and measure between answers.
  function render(root, answer, request, title, state) {
    root.replaceChildren();
    if (!answer) {
      root.appendChild(element("p", { class: "results-note" }, "Run a question: its answer is shown here as tables and a chart."));
      return;
    }
    const found = tables(answer.data);
    const provenance = (answer.extensions || {}).disclosure;
    if (answer.errors && answer.errors.length) {
      const e = answer.errors[0];
      root.appendChild(element("p", { class: "error" }, e.message + " (" + ((e.extensions || {}).code || "error") + ")"));
    }
    if (!found.length) {
      if (!answer.errors) root.appendChild(element("p", { class: "results-note" }, "This answer holds no table."));
      return;
    }
    const chosen = Math.min(state.table || 0, found.length - 1);
    const table = found[chosen];
    const measures = table.header
      .map((h, i) => [i, h])
      .filter(([i]) => table.rows.some((r) => (isCell(r[i]) ? r[i].released.value !== undefined : typeof r[i] === "number")));
    const labels = [[-1, "all identifying columns"], ...table.header.map((h, i) => [i, h]).filter(([i]) => !measures.some(([m]) => m === i))];
    const measure = measures.some(([m]) => m === state.measure) ? state.measure : measures.length ? measures[0][0] : null;
    // By default the first identifying column labels the bars (a group's first key, say).
    const label = labels.some(([l]) => l === state.label) ? state.label : labels.length > 1 ? labels[1][0] : -1;
    const again = (change) => render(root, answer, request, title, Object.assign(state, change));
    const controls = element("div", { class: "results-controls" });
    controls.appendChild(select("Table", found.map((t, i) => [i, t.path + " (" + t.rows.length + ")"]), chosen, (t) => again({ table: t, measure: null, label: null })));
    if (measure !== null) {
      controls.appendChild(select("Bars", measures, measure, (m) => again({ measure: m })));
      controls.appendChild(select("Labels", labels, label, (l) => again({ label: l })));
    }
    const csv = element("button", { type: "button", class: "results-csv" }, "Download CSV");
    csv.addEventListener("click", () =>
      Released.downloadText((title || "answer") + "-" + table.path + ".csv", "text/csv", Released.tidyCsv(title + ": " + table.path, provenance, table.header, table.rows)),
    );
    controls.appendChild(csv);
    // Parquet and XLSX files are written by the service (`POST /graphql/export`), which
    // asks the question again through the same release step: the same numbers.
    const status = element("span", { class: "results-status", role: "status" });
    for (const [format, what] of [["parquet", "Parquet"], ["xlsx", "XLSX (every table)"]]) {
      const button = element("button", { type: "button", class: "results-" + format }, "Download " + what);
      button.addEventListener("click", async () => {
        status.textContent = "";
        try {
          const file = await Session.exportFile(format, format === "xlsx" ? "" : table.path, request.query, request.variables, request.operationName);
          const name = (title || "answer") + (format === "xlsx" ? "" : "-" + table.path) + "." + format;
          Released.download(name, URL.createObjectURL(file));
        } catch (error) {
          status.textContent = "Not exported: " + error.message;
        }
      });
      controls.appendChild(button);
    }
    controls.appendChild(status);
    root.appendChild(controls);
    if (provenance) root.appendChild(element("p", { class: "results-note" }, Released.provenanceLine(provenance)));
    if (measure !== null) {
      const figure = element("div", { class: "results-figure" });
      figure.appendChild(chart(table, label, measure, Math.max(320, (root.clientWidth || 420) - 8)));
      root.appendChild(figure);
    }
    const wrap = element("div", { class: "results-table" });
    wrap.appendChild(Released.table(table.header, table.rows));
    root.appendChild(wrap);
  }

  // The view as a GraphiQL plugin (its icon as an SVG path): it shows the active tab's
  // latest answer.
  function plugin() {
    const { useEditorContext } = GraphiQL.React;
    function Content() {
      const editor = useEditorContext({ nonNull: true });
      const tab = editor.tabs[editor.activeTabIndex];
      const response = tab ? tab.response : null;
      const title = tab ? tab.title : "answer";
      const request = { query: tab ? tab.query : "", variables: Exporter.variablesOf(tab && tab.variables), operationName: tab && tab.operationName };
      const root = React.useRef(null);
      const state = React.useRef({});
      React.useEffect(() => {
        let answer = null;
        try {
          answer = response ? JSON.parse(response) : null;
        } catch (_) {
          answer = { errors: [{ message: response }] };
        }
        render(root.current, answer, request, title, state.current);
      }, [response, title]);
      return React.createElement("div", { className: "results", ref: root });
    }
    return { title: "Results: table and chart", iconPath: "M4 20V10M10 20V4M16 20v-7M2 20h20", content: Content };
  }

  return { tables, plugin };
})();
