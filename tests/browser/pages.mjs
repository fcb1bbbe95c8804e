// Opens the service's pages in Debian's Chromium with every request to another origin
// blocked, as on a hospital network without internet access, and checks that they work:
// the playground renders, takes a token through the page, opens the schema's
// documentation and runs the funnel query, without writing the token to the browser's
// storage; the dashboards draw every plot for a company's token, show withheld values
// as withheld, and download tables as tidy CSV with their provenance. Screenshots go to
// ARTEFACTS. Prints what it saw; exits non-zero on failure.
//
// Environment: BASE (the service's URL), TOKEN (any partner's), COMPANY_TOKEN, NOISY_TOKEN
// (a partner on the noisy tier), ARTEFACTS,
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";

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
    const canvases = await page.$$eval(".panel canvas", (all) => all.length);
    check(canvases >= 6, "each panel has its plot (" + canvases + " canvases)");
    const withheld = await page.$$eval("td.withheld", (cells) => cells.map((c) => c.textContent));
    check(withheld.length > 0 && withheld.every((w) => w.startsWith("withheld")), "withheld values show as withheld (" + withheld.length + ")");
    await page.screenshot({ path: artefacts + "/dashboards.png", fullPage: true });
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
  check(elsewhere.length === 0, "no request left the origin: " + elsewhere.join(" "));
  check(problems.length === 0, "no script errors: " + problems.join(" | "));
} catch (error) {
  failures.push(String(error));
  console.log("FAIL " + error);
} finally {
  await browser.close();
}
process.exit(failures.length === 0 ? 0 : 1);
