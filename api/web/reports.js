// The cohort report's page: the report the service renders for the token
// (`/reports/cohorts.html`, fetched with the token from memory) shown in the page, with
// its print stylesheet (the page's own header is not printed), and its PDF
// (`/reports/cohorts.pdf`) downloadable.
"use strict";
(function () {
  const status = document.getElementById("report-status");

  async function show() {
    document.getElementById("welcome").hidden = true;
    const target = document.getElementById("report");
    target.dataset.state = "loading";
    status.textContent = "rendering…";
    const response = await Session.get("/reports/cohorts.html");
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = (body.errors && body.errors[0]) || { message: response.statusText };
      status.textContent = "No report: " + error.message;
      target.dataset.state = "failed";
      return;
    }
    // The report is a standalone document: its style and its main part are taken in.
    const report = new DOMParser().parseFromString(await response.text(), "text/html");
    target.replaceChildren(...[...report.querySelectorAll("style"), report.querySelector("main")].filter(Boolean).map((n) => document.adoptNode(n)));
    document.getElementById("report-actions").hidden = false;
    status.textContent = "";
    target.dataset.state = "shown";
  }

  document.getElementById("print").addEventListener("click", () => window.print());
  document.getElementById("pdf").addEventListener("click", async () => {
    status.textContent = "printing…";
    const response = await Session.get("/reports/cohorts.pdf");
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      status.textContent = "No PDF: " + ((body.errors && body.errors[0]) || { message: response.statusText }).message;
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "cohort-report.pdf";
    document.body.appendChild(link);
    link.click();
    link.remove();
    status.textContent = "";
  });

  Session.bind(show);
})();
