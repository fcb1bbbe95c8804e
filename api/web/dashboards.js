// The dashboards: each panel asks the GraphQL API one question with the caller's token,
// draws it with uPlot and lists it in a table; a withheld value is drawn and listed as
// withheld with its rule, never as zero. Each plot downloads as PNG, each table as a tidy
// CSV: a released number's value, precision, rule and margin in columns of their own,
// under a provenance header (data version, policy version, audit record).
"use strict";
(function () {
  const COLOURS = ["#2c7da0", "#e76f51", "#2a9d8f", "#8d5a97", "#e9c46a", "#264653"];
  const WITHHELD = "withheld";

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

  // A CSV cell, quoted; text a spreadsheet would run as a formula (= + - @, a tab or a
  // carriage return first) gets a leading ' so it stays text; numbers stay numbers.
  function csvCell(cell) {
    let text = String(cell);
    if (/^[=+\-@\t\r]/.test(text) && !Number.isFinite(Number(text))) text = "'" + text;
    return '"' + text.replace(/"/g, '""') + '"';
  }

  // A table cell holding a released number, shown with `digits` decimals.
  function cell(number, digits) {
    return { released: number || {}, digits };
  }

  // A released fact that is not a number (a decision): withheld with `rule` when null.
  function fact(v, rule) {
    const withheld = v === null || v === undefined;
    return cell({ value: withheld ? null : String(v), precision: withheld ? "SUPPRESSED" : "EXACT", rule: withheld ? rule : null });
  }

  function isReleased(c) {
    return c !== null && typeof c === "object" && "released" in c;
  }

  // A cell's text in the page's table.
  function text(c) {
    return isReleased(c) ? shown(c.released, c.digits) : String(c);
  }

  // The tidy CSV of a table: each column of released numbers becomes its value,
  // precision, rule and 95% margin; a provenance header says what the numbers are.
  function tidyCsv(title, provenance, header, rows) {
    const released = header.map((_, i) => rows.some((r) => isReleased(r[i])));
    const columns = header.flatMap((h, i) => (released[i] ? [h, h + " precision", h + " rule", h + " margin95"] : [h]));
    const line = (r) =>
      r.flatMap((c, i) => {
        if (!released[i]) return [text(c)];
        const n = isReleased(c) ? c.released : {};
        return [n.value ?? "", n.precision ?? "", n.rule ?? "", n.margin95 ?? ""];
      });
    const p = provenance || {};
    const head = [
      "# Consortium Analytics: " + title,
      "# data version " + (p.dataVersion ?? "?") + "; disclosure policy " + (p.policyVersion ?? "?") + "; audit record " + (p.auditRecord ?? "?"),
      "# downloaded " + new Date().toISOString() + "; a withheld value is empty, its rule says why",
    ];
    return head.concat([columns, ...rows.map(line)].map((r) => r.map(csvCell).join(","))).join("\n");
  }

  function value(number) {
    return number && number.value !== null && number.value !== undefined ? Number(number.value) : null;
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, val] of Object.entries(attributes || {})) node.setAttribute(key, val);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function download(name, href) {
    const link = element("a", { href, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // One panel: a title, a plot, its table, download buttons; `draw(panel)` fills it.
  function panel(id, title) {
    let provenance = null;
    const box = element("section", { class: "panel", id: "panel-" + id, "aria-label": title });
    box.appendChild(element("h2", {}, title));
    const status = element("p", { class: "status" }, "loading…");
    const plot = element("div", { class: "plot" });
    const actions = element("div", { class: "actions" });
    const table = element("div", { class: "table-wrap" });
    box.append(status, plot, actions, table);
    document.getElementById("panels").appendChild(box);
    return {
      id,
      status,
      plot,
      fail(message) {
        status.textContent = message;
        box.dataset.state = "failed";
      },
      // A note under the title, once drawn (what the numbers are of).
      note(message) {
        status.textContent = message;
      },
      // What the answer drawn was computed on (its `extensions.disclosure`).
      answered(disclosure) {
        provenance = disclosure;
      },
      // The table (header, rows of text) and its CSV; the plot's PNG once drawn.
      show(header, rows, chart) {
        status.textContent = "";
        const html = element("table");
        const head = element("tr");
        header.forEach((h) => head.appendChild(element("th", {}, h)));
        html.appendChild(head);
        for (const row of rows) {
          const tr = element("tr");
          row.map(text).forEach((t) => tr.appendChild(element("td", t.startsWith(WITHHELD) ? { class: "withheld" } : {}, t)));
          html.appendChild(tr);
        }
        table.replaceChildren(html);
        const csv = tidyCsv(title, provenance, header, rows);
        const png = element("button", { type: "button" }, "Download PNG");
        png.addEventListener("click", () => download(id + ".png", chart.ctx.canvas.toDataURL("image/png")));
        const csvButton = element("button", { type: "button" }, "Download CSV");
        csvButton.addEventListener("click", () =>
          download(id + ".csv", URL.createObjectURL(new Blob([csv], { type: "text/csv" }))),
        );
        actions.replaceChildren(png, csvButton);
        box.dataset.state = "drawn";
      },
    };
  }

  // Asks `query`; the panel says why when it cannot be answered (a missing scope, say).
  async function ask(target, query) {
    const body = await Session.graphql(query);
    target.answered((body.extensions || {}).disclosure);
    if (body.errors && body.errors.length) {
      const error = body.errors[0];
      target.fail("Not available to this token: " + error.message + " (" + (error.extensions || {}).code + ")");
      return null;
    }
    return body.data;
  }

  function width(target) {
    return Math.max(560, target.plot.clientWidth || 560);
  }

  // Writes "withheld" over the categories whose value is withheld.
  function withheldMarks(withheld) {
    return (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "#a4161a";
      ctx.font = 12 * devicePixelRatio + "px sans-serif";
      ctx.textAlign = "center";
      withheld.forEach((isWithheld, i) => {
        if (!isWithheld) return;
        const x = u.valToPos(i, "x", true);
        ctx.fillText(WITHHELD, x, u.bbox.top + u.bbox.height - 6 * devicePixelRatio);
      });
      ctx.restore();
    };
  }

  // Category labels, slanted so long codes do not overlap.
  function categoryAxis(labels) {
    return {
      values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? "" : "")),
      rotate: -30,
      size: 80,
      gap: 4,
      font: "11px sans-serif",
    };
  }

  // Error bars over bars: ± each value's 95% margin (noisy and perturbed counts), where
  // a series gives `margins`; the plot's `data-error-bars` says how many were drawn.
  function errorBars(target, series) {
    return (u) => {
      const ctx = u.ctx;
      let drawn = 0;
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.strokeStyle = "#1f2933";
      series.forEach((s, i) => {
        (s.margins || []).forEach((margin, j) => {
          const v = s.values[j];
          if (margin === null || margin === undefined || v === null) return;
          // Two series stand side by side (see `bars`).
          const shift = series.length > 1 ? (i === 0 ? -0.2 : 0.2) : 0;
          const x = u.valToPos(j + shift, "x", true);
          const [top, bottom] = [u.valToPos(v + margin, "y", true), u.valToPos(Math.max(0, v - margin), "y", true)];
          const cap = 4 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.moveTo(x - cap, top);
          ctx.lineTo(x + cap, top);
          ctx.moveTo(x - cap, bottom);
          ctx.lineTo(x + cap, bottom);
          ctx.stroke();
          drawn += 1;
        });
      });
      ctx.restore();
      target.plot.dataset.errorBars = String(drawn);
    };
  }

  // The 95% margins of released numbers (null where a number has none).
  function margins(numbers) {
    return numbers.map((n) => (n && n.value !== null && n.margin95 !== null && n.margin95 !== undefined ? Number(n.margin95) : null));
  }

  function bars(target, category, labels, series, withheld) {
    const xs = labels.map((_, i) => i);
    return new uPlot(
      {
        width: width(target),
        height: 280,
        scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [categoryAxis(labels), {}],
        series: [
          { label: category },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLOURS[i],
            fill: COLOURS[i] + "cc",
            // One series: centred on its category; two: side by side.
            paths: uPlot.paths.bars({ size: [series.length > 1 ? 0.4 : 0.7, 60], align: series.length > 1 ? (i === 0 ? -1 : 1) : 0 }),
            points: { show: false },
          })),
        ],
        hooks: { draw: [withheldMarks(withheld), errorBars(target, series)] },
      },
      [xs, ...series.map((s) => s.values)],
      target.plot,
    );
  }

  async function funnel(target) {
    const data = await ask(target, "{ viewer { partner { kind } } funnel { steps { population patients { value precision rule margin95 } } } }");
    if (!data) return;
    const steps = data.funnel.steps;
    const labels = steps.map((s) => s.population.replace(/_/g, " ").toLowerCase());
    const patients = { label: "patients", values: steps.map((s) => value(s.patients)), margins: margins(steps.map((s) => s.patients)) };
    const chart = bars(target, "step", labels, [patients], steps.map((s) => value(s.patients) === null));
    target.show(["step", "patients"], steps.map((s) => [s.population, cell(s.patients)]), chart);
    if (data.viewer.partner.kind === "INDUSTRY") {
      target.note(
        "A company's rows start at enrolment: it sees the patients of its own cohorts, so every step before enrolment counts those same patients.",
      );
    }
  }

  async function forest(target) {
    const data = await ask(
      target,
      `{ cohortMonitoring { cohort { code name status design { r1 n1 r n } } decision { kind rule } statusAgrees
          clinicalBenefit { numerator { value precision rule } denominator { value precision rule }
            estimate { value precision rule } lower95 { value precision rule } upper95 { value precision rule } } } }`,
    );
    if (!data) return;
    const rows = data.cohortMonitoring.filter((c) => c.clinicalBenefit);
    const labels = rows.map((c) => c.cohort.code);
    const xs = rows.map((_, i) => i);
    const estimate = rows.map((c) => value(c.clinicalBenefit.estimate));
    const lower = rows.map((c) => value(c.clinicalBenefit.lower95));
    const upper = rows.map((c) => value(c.clinicalBenefit.upper95));
    const whiskers = (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      rows.forEach((c, i) => {
        const x = u.valToPos(i, "x", true);
        if (lower[i] !== null && upper[i] !== null) {
          ctx.strokeStyle = COLOURS[0];
          ctx.beginPath();
          ctx.moveTo(x, u.valToPos(lower[i], "y", true));
          ctx.lineTo(x, u.valToPos(upper[i], "y", true));
          ctx.stroke();
        }
        // The two-stage boundaries: stage 1 needs more than r1 of n1, the end more than r of n.
        const d = c.cohort.design;
        for (const [rate, colour] of [[d.r1 / d.n1, "#e9c46a"], [d.r / d.n, "#e76f51"]]) {
          ctx.strokeStyle = colour;
          const y = u.valToPos(rate, "y", true);
          ctx.beginPath();
          ctx.moveTo(x - 6 * devicePixelRatio, y);
          ctx.lineTo(x + 6 * devicePixelRatio, y);
          ctx.stroke();
        }
      });
      ctx.restore();
    };
    const chart = new uPlot(
      {
        width: width(target),
        height: 300,
        scales: { x: { time: false, range: [-0.6, rows.length - 0.4] }, y: { range: [0, 1] } },
        axes: [categoryAxis(labels), { label: "clinical benefit (95% CI)" }],
        series: [
          { label: "cohort" },
          { label: "benefit rate", stroke: COLOURS[0], paths: () => null, points: { show: true, size: 8, fill: COLOURS[0] } },
        ],
        hooks: { draw: [whiskers, withheldMarks(estimate.map((e) => e === null))] },
      },
      [xs, estimate],
      target.plot,
    );
    target.show(
      ["cohort", "status", "decision", "status agrees", "benefits", "evaluable", "rate", "95% lower", "95% upper", "boundaries r1/n1, r/n"],
      rows.map((c) => [
        c.cohort.code,
        c.cohort.status,
        fact(c.decision.kind, c.decision.rule),
        fact(c.statusAgrees, c.decision.rule),
        cell(c.clinicalBenefit.numerator),
        cell(c.clinicalBenefit.denominator),
        cell(c.clinicalBenefit.estimate, 2),
        cell(c.clinicalBenefit.lower95, 2),
        cell(c.clinicalBenefit.upper95, 2),
        c.cohort.design.r1 + "/" + c.cohort.design.n1 + ", " + c.cohort.design.r + "/" + c.cohort.design.n,
      ]),
      chart,
    );
  }

  // Kaplan–Meier curves of `endpoint` (by treatment group for OS), with bands and numbers at risk.
  async function survival(target, endpoint, byTreatmentGroup) {
    const data = await ask(
      target,
      `{ survival(endpoint: ${endpoint}, byTreatmentGroup: ${byTreatmentGroup}) { treatmentGroup patients { value precision rule }
          steps { months { value } survival { value } lower95 { value } upper95 { value } }
          atRisk { months patients { value precision rule } } } }`,
    );
    if (!data) return;
    const curves = data.survival;
    const times = [...new Set([0, ...curves.flatMap((c) => c.steps.map((s) => value(s.months)).filter((t) => t !== null))])].sort((a, b) => a - b);
    const seriesOf = (curve, field) => {
      const steps = curve.steps.filter((s) => value(s.months) !== null && value(s[field]) !== null);
      const last = steps.length ? value(steps[steps.length - 1].months) : 0;
      let current = 1;
      let next = 0;
      return times.map((t) => {
        while (next < steps.length && value(steps[next].months) <= t) current = value(steps[next++][field]);
        return t <= last ? current : null;
      });
    };
    const series = [{ label: "months" }];
    const columns = [times];
    const bands = [];
    curves.forEach((curve, i) => {
      const name = curve.treatmentGroup || endpoint;
      const colour = COLOURS[i % COLOURS.length];
      series.push({ label: name, stroke: colour, width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
      series.push({ label: name + " upper", stroke: colour + "55", paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
      series.push({ label: name + " lower", stroke: colour + "55", paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
      columns.push(seriesOf(curve, "survival"), seriesOf(curve, "upper95"), seriesOf(curve, "lower95"));
      const base = 1 + i * 3;
      bands.push({ series: [base + 1, base + 2], fill: colour + "22" });
    });
    const chart = new uPlot(
      {
        width: width(target),
        height: 300,
        scales: { x: { time: false }, y: { range: [0, 1] } },
        axes: [{ label: "months" }, { label: "survival" }],
        series,
        bands,
      },
      columns,
      target.plot,
    );
    const months = curves.length ? curves[0].atRisk.map((a) => a.months) : [];
    target.show(
      ["group", "patients", ...months.map((m) => "at risk " + m + " mo")],
      curves.map((c) => [c.treatmentGroup || endpoint, cell(c.patients), ...c.atRisk.map((a) => cell(a.patients))]),
      chart,
    );
  }

  async function monthly(target) {
    const data = await ask(
      target,
      "{ monthlyActivity { period interval referrals { value precision rule } enrolments { value precision rule } treatmentStarts { value precision rule } } }",
    );
    if (!data) return;
    const months = data.monthlyActivity;
    const xs = months.map((_, i) => i);
    const fields = [["referrals", "referrals"], ["enrolments", "enrolments"], ["treatmentStarts", "treatment starts"]];
    const chart = new uPlot(
      {
        width: width(target),
        height: 280,
        scales: { x: { time: false } },
        axes: [{ values: (u, splits) => splits.map((i) => months[i] ? months[i].period : "") }, {}],
        series: [{ label: months.length ? months[0].interval.toLowerCase() : "month" }, ...fields.map(([f, label], i) => ({ label, stroke: COLOURS[i], width: 2, spanGaps: false }))],
      },
      [xs, ...fields.map(([f]) => months.map((m) => value(m[f])))],
      target.plot,
    );
    const period = months.length ? months[0].interval.toLowerCase() : "month";
    target.show([period, ...fields.map(([, l]) => l)], months.map((m) => [m.period, ...fields.map(([f]) => cell(m[f]))]), chart);
  }

  async function adverseEvents(target) {
    const data = await ask(
      target,
      `{ adverseEvents(category: ORGAN_CLASS) { category treated { value precision rule }
          anyGrade { numerator { value precision rule margin95 } } grade3Plus { numerator { value precision rule margin95 } } } }`,
    );
    if (!data) return;
    // Every organ class listed, most frequent first.
    const rows = data.adverseEvents.slice().sort((a, b) => (value(b.anyGrade.numerator) ?? -1) - (value(a.anyGrade.numerator) ?? -1));
    const labels = rows.map((r) => (r.category || "any").slice(0, 14));
    const chart = bars(
      target,
      "organ class",
      labels,
      [
        { label: "any grade", values: rows.map((r) => value(r.anyGrade.numerator)), margins: margins(rows.map((r) => r.anyGrade.numerator)) },
        { label: "grade ≥ 3", values: rows.map((r) => value(r.grade3Plus.numerator)), margins: margins(rows.map((r) => r.grade3Plus.numerator)) },
      ],
      rows.map((r) => value(r.anyGrade.numerator) === null),
    );
    target.show(
      ["organ class", "treated", "any grade", "grade ≥ 3"],
      rows.map((r) => [r.category || "any organ class", cell(r.treated), cell(r.anyGrade.numerator), cell(r.grade3Plus.numerator)]),
      chart,
    );
  }

  // Redraws when new data lands: the data-version subscription over WebSocket
  // (graphql-transport-ws), authenticated when the connection opens.
  let drawnVersion = null;
  let live = null;
  function listen() {
    if (live) live.close();
    const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/graphql/ws", "graphql-transport-ws");
    live = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: "Bearer " + Session.token() } }));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "versions", type: "subscribe", payload: { query: "subscription { dataVersions { version } }" } }));
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "next" && message.payload.data) {
        const version = message.payload.data.dataVersions.version;
        if (drawnVersion !== null && version !== drawnVersion) draw();
      }
    };
  }

  async function draw() {
    document.getElementById("welcome").hidden = true;
    document.getElementById("panels").replaceChildren();
    const version = await Session.graphql("{ dataVersion { version } }");
    if (version.data) {
      drawnVersion = version.data.dataVersion.version;
      document.getElementById("version").textContent = "Data version " + drawnVersion + " (redrawn when new data lands)";
    }
    const panels = [
      [panel("funnel", "Screening funnel"), funnel],
      [panel("forest", "Clinical benefit per cohort, with two-stage boundaries"), forest],
      [panel("pfs", "Progression-free survival"), (t) => survival(t, "PFS", false)],
      [panel("os", "Overall survival by treatment group"), (t) => survival(t, "OS", true)],
      [panel("monthly", "Referrals, enrolments and treatment starts per month, quarter or year"), monthly],
      [panel("adverse-events", "Patients with adverse events, by organ class and grade"), adverseEvents],
    ];
    for (const [target, fill] of panels) {
      try {
        await fill(target);
      } catch (error) {
        target.fail("Could not draw: " + error.message);
      }
    }
  }

  Session.bind(() => {
    draw();
    listen();
  });
})();
