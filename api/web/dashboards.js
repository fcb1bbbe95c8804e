// The dashboards: each panel asks the GraphQL API one question with the caller's token,
// draws it with uPlot and lists it in a table; a withheld value is drawn and listed as
// withheld with its rule, never as zero. Each plot downloads as PNG, each table as a tidy
// CSV: a released number's value, precision, rule and margin in columns of their own,
// under a provenance header (data version, policy version, audit record).
"use strict";
(function () {
  const COLOURS = ["#2c7da0", "#e76f51", "#2a9d8f", "#8d5a97", "#e9c46a", "#264653"];
  const { WITHHELD, SVG, cell, value, element, svg, download } = Released;

  // A released fact that is not a number (a decision): withheld with `rule` when null.
  function fact(v, rule) {
    const withheld = v === null || v === undefined;
    return cell({ value: withheld ? null : String(v), precision: withheld ? "SUPPRESSED" : "EXACT", rule: withheld ? rule : null });
  }

  // One panel: a title, a plot, its table, download buttons; `draw(panel)` fills it.
  function panel(id, title, wide) {
    let provenance = null;
    const box = element("section", { class: wide ? "panel wide" : "panel", id: "panel-" + id, "aria-label": title });
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
      // The table (header, rows of cells) and its CSV; the plot (`figure`, see
      // `uplotFigure`) as a PNG.
      show(header, rows, figure) {
        status.textContent = "";
        table.replaceChildren(Released.table(header, rows));
        const csv = Released.tidyCsv(title, provenance, header, rows);
        const png = element("button", { type: "button" }, "Download PNG");
        png.addEventListener("click", async () => download(id + ".png", await picture(title, figure, box.querySelector("td.withheld") !== null, provenance)));
        const csvButton = element("button", { type: "button" }, "Download CSV");
        csvButton.addEventListener("click", () => Released.downloadText(id + ".csv", "text/csv", csv));
        actions.replaceChildren(png, csvButton);
        box.dataset.state = "drawn";
      },
    };
  }

  // A uPlot chart as a figure: its canvas and the legend of its series (a band's edges,
  // labelled "… upper" and "… lower", are not listed).
  function uplotFigure(chart) {
    const series = chart.series
      .slice(1)
      .filter((s) => typeof s.stroke === "function" && !/ (upper|lower)$/.test(String(s.label)))
      .map((s, i) => ({ label: String(s.label), colour: s.stroke(chart, i + 1) }));
    return { canvas: async () => chart.ctx.canvas, legend: series };
  }

  // A plot as a PNG that stands on its own: the panel's title above it, and below it the
  // figure's legend, the provenance of its numbers and, when any value is withheld, the
  // key to the "withheld" marks.
  async function picture(title, figure, anyWithheld, provenance) {
    const ratio = devicePixelRatio;
    const plot = await figure.canvas();
    const line = 18 * ratio;
    const canvas = document.createElement("canvas");
    canvas.width = plot.width;
    canvas.height = plot.height + line * (anyWithheld ? 4 : 3) + 8 * ratio;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#1d2733";
    ctx.font = "600 " + 14 * ratio + "px sans-serif";
    ctx.fillText(title, 8 * ratio, line);
    ctx.drawImage(plot, 0, line + 4 * ratio);
    let y = line + plot.height + line;
    let x = 8 * ratio;
    ctx.font = 12 * ratio + "px sans-serif";
    for (const { label, colour } of figure.legend) {
      ctx.fillStyle = colour;
      ctx.fillRect(x, y - 9 * ratio, 14 * ratio, 10 * ratio);
      ctx.fillStyle = "#1d2733";
      ctx.fillText(label, x + 18 * ratio, y);
      x += ctx.measureText(label).width + 34 * ratio;
    }
    y += line;
    ctx.fillStyle = "#52606d";
    ctx.fillText(Released.provenanceLine(provenance), 8 * ratio, y);
    if (anyWithheld) {
      y += line;
      ctx.fillStyle = "#a4161a";
      ctx.fillText(WITHHELD + ": a value the disclosure policy does not release (its rule is in the table), not a zero", 8 * ratio, y);
    }
    return canvas.toDataURL("image/png");
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
    return numbers.map(Released.margin);
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
    target.show(["step", "patients"], steps.map((s) => [s.population, cell(s.patients)]), uplotFigure(chart));
    if (data.viewer.partner.kind === "INDUSTRY") {
      target.note(
        "A company's rows start at enrolment: it sees the patients of its own cohorts, so every step before enrolment counts those same patients.",
      );
    }
  }

  // An SVG drawing as a canvas (for its PNG), at the screen's pixel ratio.
  function rasterise(drawing) {
    const ratio = devicePixelRatio;
    const width = Number(drawing.getAttribute("width"));
    const height = Number(drawing.getAttribute("height"));
    const source = new XMLSerializer().serializeToString(drawing);
    return new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = width * ratio;
        canvas.height = height * ratio;
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
        resolve(canvas);
      };
      image.onerror = () => reject(new Error("the plot could not be drawn as an image"));
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(source);
    });
  }

  const FOREST = { row: 20, head: 44, foot: 30, estimate: COLOURS[0], stage1: "#c99a06", final: "#e76f51" };

  // A forest plot laid out as in a paper: one row per cohort — its code, evaluable
  // patients n, benefits r/n, the estimate with its exact 95% interval on a common 0–1
  // axis with the two-stage boundaries (stage 1: more than r1 of n1; the end: more than
  // r of n), the decision and the cohort's status. Rows stay 20 px whatever their
  // number, so 300 cohorts scroll rather than shrink.
  function forestPlot(rows, width) {
    const columns = { code: 8, n: 160, rn: 225, plot: 300, decision: width - 230, status: width - 110 };
    const plotWidth = columns.decision - columns.plot - 24;
    const x = (rate) => columns.plot + rate * plotWidth;
    const height = FOREST.head + rows.length * FOREST.row + FOREST.foot;
    const drawing = svg("svg", { xmlns: SVG, width, height, viewBox: "0 0 " + width + " " + height, class: "forest", "font-family": "sans-serif", "font-size": 12 });
    drawing.appendChild(svg("rect", { x: 0, y: 0, width, height, fill: "#fff" }));
    const header = [["cohort", columns.code], ["n", columns.n], ["r/n", columns.rn], ["decision", columns.decision], ["status", columns.status]];
    for (const [label, at] of header) drawing.appendChild(svg("text", { x: at, y: 16, "font-weight": 600 }, label));
    // The key, above the plot column.
    const key = svg("g", { transform: "translate(" + columns.plot + ",16)" });
    key.appendChild(svg("rect", { x: 0, y: -8, width: 8, height: 8, fill: FOREST.estimate }));
    key.appendChild(svg("text", { x: 12, y: 0 }, "benefit, exact 95% CI"));
    key.appendChild(svg("line", { x1: 140, x2: 140, y1: -10, y2: 2, stroke: FOREST.stage1, "stroke-width": 2 }));
    key.appendChild(svg("text", { x: 145, y: 0 }, "r1/n1"));
    key.appendChild(svg("line", { x1: 185, x2: 185, y1: -10, y2: 2, stroke: FOREST.final, "stroke-width": 2 }));
    key.appendChild(svg("text", { x: 190, y: 0 }, "r/n"));
    drawing.appendChild(key);
    // Grid lines at 0, 0.25, …, 1 down the plot column, labelled above and below.
    const top = FOREST.head - 10;
    const bottom = FOREST.head + rows.length * FOREST.row;
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      drawing.appendChild(svg("line", { x1: x(tick), x2: x(tick), y1: top, y2: bottom, stroke: "#d9e2ec" }));
      for (const y of [top - 2, bottom + 14]) drawing.appendChild(svg("text", { x: x(tick), y, "text-anchor": "middle", fill: "#52606d", "font-size": 10 }, String(tick)));
    }
    drawing.appendChild(svg("text", { x: x(0.5), y: bottom + 27, "text-anchor": "middle", fill: "#52606d", "font-size": 11 }, "clinical benefit at week 16"));
    rows.forEach((c, i) => {
      const y = FOREST.head + i * FOREST.row + FOREST.row / 2;
      const row = svg("g", { class: "forest-row", "data-cohort": c.cohort.code });
      if (i % 2 === 0) row.appendChild(svg("rect", { x: 0, y: y - FOREST.row / 2, width, height: FOREST.row, fill: "#f5f7fa" }));
      const benefit = c.clinicalBenefit;
      const name = svg("text", { x: columns.code, y: y + 4 }, c.cohort.code);
      name.appendChild(svg("title", {}, c.cohort.name));
      row.appendChild(name);
      // A withheld n is written short here; its rule is in the table below.
      const n = value(benefit.denominator);
      row.appendChild(svg("text", { x: columns.n, y: y + 4, ...(n === null ? { fill: "#a4161a", "font-style": "italic" } : {}) }, n === null ? WITHHELD : String(n)));
      const rn = value(benefit.numerator) !== null && value(benefit.denominator) !== null ? value(benefit.numerator) + "/" + value(benefit.denominator) : "";
      row.appendChild(svg("text", { x: columns.rn, y: y + 4 }, rn));
      const [estimate, lower, upper] = [value(benefit.estimate), value(benefit.lower95), value(benefit.upper95)];
      if (estimate !== null && lower !== null && upper !== null) {
        row.appendChild(svg("line", { x1: x(lower), x2: x(upper), y1: y, y2: y, stroke: FOREST.estimate, "stroke-width": 1.5 }));
        row.appendChild(svg("rect", { x: x(estimate) - 4, y: y - 4, width: 8, height: 8, fill: FOREST.estimate, class: "estimate" }));
      } else {
        const rule = (benefit.estimate && benefit.estimate.rule) || (benefit.denominator && benefit.denominator.rule);
        row.appendChild(svg("text", { x: columns.plot + 4, y: y + 4, fill: "#a4161a", "font-style": "italic", class: "withheld" }, Released.shown({ value: null, rule })));
      }
      const d = c.cohort.design;
      for (const [rate, colour] of [[d.r1 / d.n1, FOREST.stage1], [d.r / d.n, FOREST.final]]) {
        row.appendChild(svg("line", { x1: x(rate), x2: x(rate), y1: y - 7, y2: y + 7, stroke: colour, "stroke-width": 2 }));
      }
      const decision = c.decision.kind === null ? Released.shown({ value: null, rule: c.decision.rule }) : c.decision.kind.replace(/_/g, " ").toLowerCase();
      row.appendChild(svg("text", { x: columns.decision, y: y + 4, ...(c.decision.kind === null ? { fill: "#a4161a", "font-style": "italic" } : {}) }, decision));
      row.appendChild(svg("text", { x: columns.status, y: y + 4 }, c.cohort.status.toLowerCase()));
      drawing.appendChild(row);
    });
    return drawing;
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
    const drawing = forestPlot(rows, Math.max(720, target.plot.clientWidth || 720));
    const scroll = element("div", { class: "forest-wrap" });
    scroll.appendChild(drawing);
    target.plot.replaceChildren(scroll);
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
      {
        canvas: () => rasterise(drawing),
        legend: [
          { label: "benefit rate, exact 95% CI", colour: FOREST.estimate },
          { label: "stage-1 boundary r1/n1", colour: FOREST.stage1 },
          { label: "final boundary r/n", colour: FOREST.final },
        ],
      },
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
      uplotFigure(chart),
    );
  }

  // Marks each withheld value of a line series with a hollow ring on the axis in its
  // series' colour (the line runs on past it rather than breaking); the plot's
  // `data-withheld-marks` says how many were drawn.
  function withheldRings(target, columns) {
    return (u) => {
      const ctx = u.ctx;
      let drawn = 0;
      ctx.save();
      ctx.lineWidth = 2 * devicePixelRatio;
      columns.forEach((values, k) => {
        ctx.strokeStyle = COLOURS[k];
        values.forEach((v, i) => {
          if (v !== null) return;
          ctx.beginPath();
          ctx.arc(u.valToPos(i, "x", true), u.valToPos(0, "y", true) - (4 + 5 * k) * devicePixelRatio, 4 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.stroke();
          drawn += 1;
        });
      });
      ctx.restore();
      target.plot.dataset.withheldMarks = String(drawn);
    };
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
    const columns = fields.map(([f]) => months.map((m) => value(m[f])));
    const chart = new uPlot(
      {
        width: width(target),
        height: 280,
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [{ values: (u, splits) => splits.map((i) => (months[i] ? months[i].period : "")) }, {}],
        series: [
          { label: months.length ? months[0].interval.toLowerCase() : "month" },
          ...fields.map(([, label], i) => ({ label, stroke: COLOURS[i], width: 2, spanGaps: true })),
        ],
        hooks: { draw: [withheldRings(target, columns)] },
      },
      [xs, ...columns],
      target.plot,
    );
    const period = months.length ? months[0].interval.toLowerCase() : "month";
    target.show([period, ...fields.map(([, l]) => l)], months.map((m) => [m.period, ...fields.map(([f]) => cell(m[f]))]), uplotFigure(chart));
    if (columns.some((c) => c.includes(null))) {
      target.note("A ring on the axis marks a withheld " + period + " (its rule is in the table); the line runs on past it.");
    }
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
      uplotFigure(chart),
    );
  }

  // Redraws when new data lands: the data-version subscription over WebSocket.
  let drawnVersion = null;
  let live = null;
  async function listen() {
    if (live) live.return();
    const subscription = Session.subscribe("subscription { dataVersions { version } }");
    live = subscription;
    for await (const result of subscription) {
      const version = result.data && result.data.dataVersions.version;
      if (version && drawnVersion !== null && version !== drawnVersion) draw();
    }
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
      [panel("forest", "Clinical benefit per cohort, with two-stage boundaries", true), forest],
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
