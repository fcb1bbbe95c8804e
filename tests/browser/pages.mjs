// Opens the service's pages in Debian's Chromium with every request to another origin
// blocked, as on a hospital network without internet access, and checks that they work:
// the playground renders, takes a token through the page, opens the schema's
// documentation and runs the funnel query, without writing the token to the browser's
// storage; builds a question with the Explorer, shows its answer as a table and a
// chart, downloads its CSV, copies its curl command and runs it, opens its shared link,
// and hears a subscription's event when new data lands (it prints BUMP DATA VERSION for
// the test to bump it); the dashboards draw every plot for a company's token, show
// withheld values as withheld, lay the forest plot out one row per cohort, and download
// tables as tidy CSV with their provenance; the cohort report renders for a company and
// prints one page per cohort. Screenshots go to ARTEFACTS. Prints what it saw; exits
// non-zero on failure.
//
// Environment: BASE (the service's URL), TOKEN (any partner's), COMPANY_TOKEN, NOISY_TOKEN
// (a partner on the noisy tier), ARTEFACTS,
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const base = process.env.BASE;
const token = process.env.TOKEN;
const companyToken = process.env.COMPANY_TOKEN;
const noisyToken = process.env.NOISY_TOKEN;
const artefacts = process.env.ARTEFACTS;
mkdirSync(artefacts, { recursive: true });

const failures = [];
function check(condition, what) {
  console.log((condition ? "ok   " : "FAIL ") + what);
  if (!condition) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const origin = new URL(base).origin;
const elsewhere = [];
const problems = [];

async function open(path, width = 1400) {
  const context = await browser.newContext({ viewport: { width, height: 1000 } });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(path + ": " + message.text());
  });
  page.on("pageerror", (error) => problems.push(path + ": " + error.message));
  await page.goto(base + path);
  return { context, page };
}

async function enterToken(page, value) {
  await page.fill("#token", value);
  await page.click("#token-form button[type=submit]");
}

// The text of one of GraphiQL's editors (CodeMirror 5 keeps its instance on its element).
function editorText(page, selector) {
  return page.$eval(selector + " .CodeMirror", (element) => element.CodeMirror.getValue());
}

// Opens a plugin of the playground's sidebar by its title.
async function openPlugin(page, title) {
  await page.click(`.graphiql-sidebar button[aria-label="Show ${title}"]`);
}

// Clicks the field `name` in the Explorer (the deepest one shown, under what was clicked before).
async function explore(page, name) {
  await page.locator(`.graphiql-explorer-root [data-field-name="${name}"]`).last().click();
}

// Runs the active tab's question and waits for an answer holding `text`.
async function run(page, text) {
  await page.click(".graphiql-execute-button");
  await page.waitForFunction((t) => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().includes(t), text, { timeout: 30000 });
  return JSON.parse(await editorText(page, ".graphiql-response"));
}

try {
  // The playground.
  {
    const { context, page } = await open("/graphql");
    check(await page.isVisible("#token"), "the playground asks for a token first");
    await page.screenshot({ path: artefacts + "/playground-welcome.png" });
    await enterToken(page, token);
    await page.waitForSelector(".graphiql-container", { timeout: 30000 });
    check((await page.textContent("#who")).length > 0, "the playground says whose token it is");
    // The documentation explorer is open on the schema.
    await page.waitForSelector(".graphiql-doc-explorer", { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector(".graphiql-doc-explorer")?.textContent.includes("Query"), null, { timeout: 30000 });
    check(true, "the schema's documentation is open");
    // The first tab holds the funnel question: run it.
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(
      () => document.querySelector(".graphiql-response")?.textContent.includes("ACTIONABLE"),
      null,
      { timeout: 30000 },
    );
    const response = await page.textContent(".graphiql-response");
    check(response.includes("\"funnel\"") && response.includes("\"patients\""), "the funnel query ran");
    await page.screenshot({ path: artefacts + "/playground.png" });
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    check(!stored.includes(token) && !stored.includes("Bearer"), "no token in the browser's storage: " + stored.slice(0, 200));
    await context.close();
  }
  // The playground as a company's analyst: a question built with the Explorer, its
  // answer as a table, a chart and a CSV file, the curl command that asks it, its link.
  {
    const { context, page } = await open("/graphql");
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    await enterToken(page, companyToken);
    await page.waitForSelector(".graphiql-container", { timeout: 30000 });
    const titles = await page.$$eval(".graphiql-tab", (tabs) => tabs.map((t) => t.textContent.replace("close icon", "").trim()));
    check(titles.length >= 6 && !titles.some((t) => t.includes("untitled")), "the example tabs are named: " + titles.join(", "));
    await page.click('button[aria-label="Add tab"]');
    await openPlugin(page, "GraphiQL Explorer");
    await page.waitForSelector(".graphiql-explorer-root", { timeout: 30000 });
    for (const field of ["cohortMonitoring", "cohort", "code", "stage1", "benefits", "value", "rule"]) await explore(page, field);
    const built = await editorText(page, ".graphiql-query-editor");
    check(/cohortMonitoring[\s\S]*code[\s\S]*stage1[\s\S]*benefits[\s\S]*value[\s\S]*rule/.test(built), "the Explorer built a question: " + built.replace(/\s+/g, " "));
    await page.screenshot({ path: artefacts + "/playground-explorer.png" });
    const answer = await run(page, "cohortMonitoring");
    check(Array.isArray(answer.data?.cohortMonitoring), "the built question ran");
    // The answer as a table and a chart.
    await openPlugin(page, "Results: table and chart");
    await page.waitForSelector(".results table", { timeout: 30000 });
    const rows = await page.$$eval(".results table tr", (trs) => trs.length - 1);
    check(rows === answer.data.cohortMonitoring.length, "the table has a row per cohort (" + rows + ")");
    const bars = await page.$$eval(".results-chart .bar", (all) => all.length);
    const withheldMarks = await page.$$eval(".results-chart .withheld", (all) => all.length);
    const withheldCells = await page.$$eval(".results td.withheld", (cells) => cells.map((c) => c.textContent));
    check(bars + withheldMarks === rows && withheldMarks === withheldCells.length, "the chart draws each row: " + bars + " bars, " + withheldMarks + " withheld");
    check(withheldCells.length > 0 && withheldCells.every((c) => /^withheld \(\w+\)$/.test(c)), "withheld cells show their rule: " + withheldCells.slice(0, 3).join(", "));
    await page.screenshot({ path: artefacts + "/playground-results.png" });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(".results-csv")]);
    const csv = readFileSync(await download.path(), "utf8").split("\n");
    check(/^# data version \d+; disclosure policy \S+; audit record \d+$/.test(csv[1]), "the results' CSV says what its numbers are: " + csv[1]);
    const header = csv[3].slice(1, -1).split('","');
    const value = header.indexOf("stage1.benefits");
    const rule = header.indexOf("stage1.benefits rule");
    const cells = csv.slice(4).map((l) => l.slice(1, -1).split('","'));
    const emptyWithRule = cells.filter((c) => c[value] === "" && c[rule] !== "").length;
    check(value >= 0 && rule >= 0 && emptyWithRule === withheldCells.length, "each withheld cell is an empty value with its rule in the CSV (" + emptyWithRule + ")");
    const [parquet] = await Promise.all([page.waitForEvent("download"), page.click(".results-parquet")]);
    const bytes = readFileSync(await parquet.path());
    check(bytes.subarray(0, 4).toString() === "PAR1" && bytes.includes("audit_record"), "the table downloads as Parquet with its provenance");
    // The request a program sends: curl, run from here, gives the same answer.
    await openPlugin(page, "Code and link");
    await page.waitForSelector(".exporter-code");
    await page.click(".exporter-copy");
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    check(curl.startsWith("curl ") && curl.includes("$CONSORTIUM_TOKEN") && !curl.includes(companyToken), "the curl command holds the token's placeholder only");
    const again = JSON.parse(execFileSync("bash", ["-c", curl], { env: { ...process.env, CONSORTIUM_TOKEN: companyToken } }).toString());
    check(JSON.stringify(again.data) === JSON.stringify(answer.data), "the curl command gets the same answer");
    for (const language of ["Python", "R", "JavaScript"]) {
      await page.click(`.exporter-languages button:has-text("${language}")`);
      const code = await page.textContent(".exporter-code");
      check(code.includes("CONSORTIUM_TOKEN") && code.includes("cohortMonitoring") && !code.includes(companyToken), language + " code for the question");
    }
    await page.screenshot({ path: artefacts + "/playground-code.png" });
    const link = await page.inputValue(".exporter-link");
    check(link.startsWith(base + "/graphql#query=") && !link.includes(companyToken), "the link holds the question only");
    // The link opens the question, and nothing else.
    {
      const shared = await context.newPage();
      await shared.goto(link);
      await enterToken(shared, companyToken);
      await shared.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 30000 });
      const opened = await editorText(shared, ".graphiql-query-editor");
      check(opened === built, "the shared link opens the question: " + opened.replace(/\s+/g, " ").slice(0, 120));
      check(!(await shared.evaluate(() => location.hash)), "the link's question leaves the address bar");
      await shared.close();
    }
    // A subscription over /graphql/ws: the data version, and the next one when new data lands.
    await page.click('.graphiql-tab:has-text("DataVersions")');
    await page.waitForFunction(() => document.querySelector(".graphiql-query-editor .CodeMirror")?.CodeMirror.getValue().includes("subscription DataVersions"));
    // GraphiQL takes the tab's operation name a moment after the tab opens.
    await page.waitForTimeout(1000);
    const first = await run(page, "dataVersions");
    const version = first.data.dataVersions.version;
    console.log("BUMP DATA VERSION");
    await page.waitForFunction(
      (v) => {
        const text = document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue() || "";
        return text.includes('"version": ' + (v + 1)) || (text.includes('"version"') && !text.includes('"version": ' + v));
      },
      version,
      { timeout: 30000 },
    );
    const next = JSON.parse(await editorText(page, ".graphiql-response"));
    check(next.data.dataVersions.version > version, "the subscription heard of the new data version (" + version + " → " + next.data.dataVersions.version + ")");
    await page.click(".graphiql-execute-button");
    await context.close();
  }
  // The noisy tier's price of a question, from the toolbar.
  {
    const { context, page } = await open("/graphql");
    await enterToken(page, noisyToken);
    await page.waitForSelector(".graphiql-container", { timeout: 30000 });
    await page.click(".price-button");
    await page.waitForFunction(() => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().includes("privacyCost"), null, { timeout: 30000 });
    const priced = JSON.parse(await editorText(page, ".graphiql-response"));
    check(priced.data === null && priced.extensions.privacyCost.epsilon > 0, "the price button shows the question's cost: ε " + priced.extensions.privacyCost.epsilon);
    await context.close();
  }
  // The playground on a 1024-pixel screen: the editors keep the width.
  {
    const { context, page } = await open("/graphql", 1024);
    await enterToken(page, token);
    await page.waitForSelector(".graphiql-response", { timeout: 30000 });
    const widths = await page.$$eval(".graphiql-query-editor, .graphiql-response", (all) => all.map((e) => Math.round(e.getBoundingClientRect().width)));
    check(widths.length === 2 && widths.every((w) => w >= 420), "at 1024 px the editor and the response are wide enough: " + widths.join(", "));
    await page.screenshot({ path: artefacts + "/playground-1024.png" });
    await context.close();
  }
  // The dashboards, as a company.
  {
    const { context, page } = await open("/dashboards");
    await enterToken(page, companyToken);
    await page.waitForFunction(
      () => {
        const panels = [...document.querySelectorAll(".panel")];
        return panels.length === 6 && panels.every((p) => p.dataset.state);
      },
      null,
      { timeout: 60000 },
    );
    const states = await page.$$eval(".panel", (panels) => panels.map((p) => p.id + ":" + p.dataset.state));
    check(states.every((s) => s.endsWith(":drawn")), "every plot is drawn: " + states.join(" "));
    const plots = await page.$$eval(".panel canvas, .panel svg.forest", (all) => all.length);
    check(plots >= 6, "each panel has its plot (" + plots + " canvases and drawings)");
    const withheld = await page.$$eval("td.withheld", (cells) => cells.map((c) => c.textContent));
    check(withheld.length > 0 && withheld.every((w) => w.startsWith("withheld")), "withheld values show as withheld (" + withheld.length + ")");
    await page.screenshot({ path: artefacts + "/dashboards.png", fullPage: true });
    // The forest plot: a row per cohort, its labels apart.
    const forest = await page.$$eval("#panel-forest .forest-row", (rows) => rows.map((r) => r.querySelector("text").getBoundingClientRect().top));
    const forestTable = await page.$$eval("#panel-forest table tr", (trs) => trs.length - 1);
    const gaps = forest.slice(1).map((top, i) => top - forest[i]);
    check(forest.length === forestTable && forest.length > 0 && gaps.every((g) => g >= 18), "the forest plot has a row per cohort (" + forest.length + "), 18 px or more apart");
    await page.locator("#panel-forest").screenshot({ path: artefacts + "/forest-plot.png" });
    const funnelNote = await page.textContent("#panel-funnel .status");
    check(funnelNote.includes("start at enrolment"), "the company's funnel says why its first steps are equal: " + funnelNote);
    // The cohorts' table as a file: tidy columns and where the numbers come from.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#panel-forest .actions button:has-text('Download CSV')"),
    ]);
    const csv = readFileSync(await download.path(), "utf8");
    const lines = csv.split("\n");
    check(/^# data version \d+; disclosure policy \S+; audit record \d+$/.test(lines[1]), "the CSV says what its numbers are: " + lines[1]);
    check(lines[3].includes('"rate","rate precision","rate rule","rate margin95"'), "a number's value, precision and rule in columns of their own");
    const rows = lines.slice(4).map((l) => l.split('","'));
    check(rows.length > 0 && rows.every((r) => !r.some((c) => c.startsWith("withheld"))), "no withheld text among the values");
    await context.close();
  }
  // The dashboards on the noisy tier: counts drawn with their 95% error bars.
  {
    const { context, page } = await open("/dashboards");
    await enterToken(page, noisyToken);
    await page.waitForFunction(() => document.querySelector("#panel-funnel")?.dataset.state, null, { timeout: 60000 });
    const bars = await page.$eval("#panel-funnel .plot", (plot) => Number(plot.dataset.errorBars || 0));
    check(bars > 0, "the noisy tier's funnel has error bars (" + bars + ")");
    await page.screenshot({ path: artefacts + "/dashboards-noisy.png" });
    await context.close();
  }
  // The cohort report, as a company: its own cohorts, printed one page each.
  {
    const { context, page } = await open("/reports");
    await enterToken(page, companyToken);
    await page.waitForFunction(() => document.querySelector("#report")?.dataset.state === "shown", null, { timeout: 60000 });
    const cohorts = await page.$$eval("#report .page.cohort", (pages) => pages.length);
    const withheld = await page.$$eval("#report .withheld", (all) => all.length);
    check(cohorts > 0 && withheld > 0, "the report shows " + cohorts + " cohorts and " + withheld + " withheld values");
    await page.screenshot({ path: artefacts + "/report.png" });
    await page.emulateMedia({ media: "print" });
    check(!(await page.isVisible(".bar")), "the page's header is not printed");
    const pdf = await page.pdf({ format: "A4" });
    const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
    check(pages >= cohorts + 1, "printed, the report has a page per cohort and a summary (" + pages + " pages)");
    await context.close();
  }
  check(elsewhere.length === 0, "no request left the origin: " + elsewhere.join(" "));
  check(problems.length === 0, "no script errors: " + problems.join(" | "));
} catch (error) {
  failures.push(String(error));
  console.log("FAIL " + error);
} finally {
  await browser.close();
}
process.exit(failures.length === 0 ? 0 : 1);
