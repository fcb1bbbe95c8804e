// Released numbers in tables and files, shared by the dashboards and the playground's
// results view: a withheld value is shown as "withheld (RULE)", never as zero; a noisy
// one with its 95% margin. A table downloads as a tidy CSV — each column of released
// numbers as its value, precision, rule and margin in columns of their own — under a
// provenance header (data version, disclosure policy, audit record).
"use strict";
window.Released = (function () {
  const WITHHELD = "withheld";

  // Whether `v` is a released number as the API returns it ({ value, precision, rule, … }).
  function isNumber(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v) && "value" in v && ("precision" in v || "rule" in v);
  }

  // A released number as table text: the value, or "withheld (RULE)".
  function shown(number, digits) {
    if (!number) return "";
    if (number.value === null || number.value === undefined) {
      const rule = number.rule ? " (" + number.rule.split(":")[0] + ")" : "";
      return WITHHELD + rule;
    }
    const text = digits === undefined ? String(number.value) : Number(number.value).toFixed(digits);
    return number.precision === "NOISY" ? text + " ±" + (number.margin95 ?? "?") : text;
  }

  function value(number) {
    return number && number.value !== null && number.value !== undefined ? Number(number.value) : null;
  }

  // The 95% margin of a released number, or null where it has none.
  function margin(number) {
    return number && number.value !== null && number.margin95 !== null && number.margin95 !== undefined
      ? Number(number.margin95)
      : null;
  }

  // A table cell holding a released number, shown with `digits` decimals.
  function cell(number, digits) {
    return { released: number || {}, digits };
  }

  function isCell(c) {
    return c !== null && typeof c === "object" && "released" in c;
  }

  // A cell's text in a page's table.
  function text(c) {
    if (isCell(c)) return shown(c.released, c.digits);
    return c === null || c === undefined ? "" : String(c);
  }

  // A CSV cell, quoted; text a spreadsheet would run as a formula (= + - @, a tab or a
  // carriage return first) gets a leading ' so it stays text; numbers stay numbers.
  function csvCell(c) {
    let t = String(c);
    if (/^[=+\-@\t\r]/.test(t) && !Number.isFinite(Number(t))) t = "'" + t;
    return '"' + t.replace(/"/g, '""') + '"';
  }

  // The provenance line of a file: what its numbers were computed on and released under
  // (an answer's `extensions.disclosure`).
  function provenanceLine(provenance) {
    const p = provenance || {};
    return (
      "data version " + (p.dataVersion ?? "?") + "; disclosure policy " + (p.policyVersion ?? "?") + "; audit record " + (p.auditRecord ?? "?")
    );
  }

  // The tidy CSV of a table (`header`, `rows` of cells): each column of released numbers
  // becomes its value, precision, rule and 95% margin; a provenance header says what
  // the numbers are.
  function tidyCsv(title, provenance, header, rows) {
    const released = header.map((_, i) => rows.some((r) => isCell(r[i])));
    const columns = header.flatMap((h, i) => (released[i] ? [h, h + " precision", h + " rule", h + " margin95"] : [h]));
    const line = (r) =>
      r.flatMap((c, i) => {
        if (!released[i]) return [text(c)];
        const n = isCell(c) ? c.released : {};
        return [n.value ?? "", n.precision ?? "", n.rule ?? "", n.margin95 ?? ""];
      });
    const head = [
      "# Consortium Analytics: " + title,
      "# " + provenanceLine(provenance),
      "# downloaded " + new Date().toISOString() + "; a withheld value is empty, its rule says why",
    ];
    return head.concat([columns, ...rows.map(line)].map((r) => r.map(csvCell).join(","))).join("\n");
  }

  function element(tag, attributes, content) {
    const node = document.createElement(tag);
    for (const [key, val] of Object.entries(attributes || {})) node.setAttribute(key, val);
    if (content !== undefined) node.textContent = content;
    return node;
  }

  const SVG = "http://www.w3.org/2000/svg";

  // An SVG element.
  function svg(tag, attributes, content) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, val] of Object.entries(attributes || {})) node.setAttribute(key, val);
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // An HTML table of `header` and `rows`; withheld cells carry the class `withheld`.
  function table(header, rows) {
    const html = element("table");
    const head = element("tr");
    header.forEach((h) => head.appendChild(element("th", {}, h)));
    html.appendChild(head);
    for (const row of rows) {
      const tr = element("tr");
      row.map(text).forEach((t) => tr.appendChild(element("td", t.startsWith(WITHHELD) ? { class: "withheld" } : {}, t)));
      html.appendChild(tr);
    }
    return html;
  }

  // Saves `href` (a data: or blob: address) as the file `name`.
  function download(name, href) {
    const link = element("a", { href, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function downloadText(name, type, content) {
    download(name, URL.createObjectURL(new Blob([content], { type })));
  }

  return { WITHHELD, SVG, isNumber, shown, value, margin, cell, isCell, text, tidyCsv, provenanceLine, element, svg, table, download, downloadText };
})();
