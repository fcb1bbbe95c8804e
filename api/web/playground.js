// The playground: GraphiQL served from this service, with a fetcher that adds the token
// from memory (GraphiQL never sees it, so its history cannot keep it) and a storage in
// memory (nothing GraphiQL keeps reaches the browser's storage).
"use strict";
(function () {
  const EXAMPLES = [
    {
      query: `# The screening funnel, and enrolled patients by region and month of 2024.
{
  funnel { steps { population patients { value precision rule } } }
  patientCounts(
    population: ENROLLED
    groupBy: [REGION, ENROLMENT_MONTH]
    filter: { enrolledBetween: { from: "2024-01-01", to: "2024-12-31" } }
  ) {
    total { value }
    groups { keys { dimension code label } patients { value precision rule } }
  }
}
`,
    },
    {
      query: `# Every cohort's two-stage monitoring: the decision its data support.
{
  cohortMonitoring {
    cohort { code name status }
    decision { kind evaluableNeeded { value } benefitsNeeded { value } }
    statusAgrees
    clinicalBenefit { numerator { value } denominator { value } estimate { value } lower95 { value } upper95 { value } }
  }
}
`,
    },
    {
      query: `# Overall survival by treatment group (needs outcome:read).
{
  survival(endpoint: OS, byTreatmentGroup: true) {
    treatmentGroup patients { value } events { value }
    median { months { value } lower95 { value } upper95 { value } }
    landmarks { months survival { value precision rule } }
  }
}
`,
    },
    {
      query: `# Adverse events per drug (needs safety:read).
{
  adverseEvents(split: DRUG) {
    split { code } category treated { value precision rule }
    grade3Plus { numerator { value } estimate { value } lower95 { value } upper95 { value } }
  }
}
`,
    },
    {
      query: `# Who you are, and what your budgets are.
{
  viewer { partner { code name kind } scopes tokenId expiresAt }
  rateLimit { limit remaining resetAt }
  privacyBudget { epsilonPerValue epsilonSpent epsilonRemaining resetsAt }
}
`,
    },
  ];

  const memory = new Map();
  const storage = {
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem: (key, value) => memory.set(key, String(value)),
    removeItem: (key) => memory.delete(key),
    clear: () => memory.clear(),
    get length() {
      return memory.size;
    },
  };

  // The narrowest window (CSS pixels) that shows the documentation beside the editors.
  const WIDE_ENOUGH_FOR_DOCS = 1280;

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  Session.bind(function (viewer) {
    document.getElementById("welcome").hidden = true;
    document.getElementById("graphiql").hidden = false;
    // A new key mounts GraphiQL afresh, so the schema is fetched with the new token.
    root.render(
      React.createElement(GraphiQL, {
        key: viewer.partner.code + ":" + Date.now(),
        fetcher: (params) => Session.graphql(params.query, params.variables, params.operationName),
        storage,
        defaultTabs: EXAMPLES,
        // The documentation opens beside the editors where there is room for all three;
        // on a narrower screen the editors keep the width (the docs are one click away).
        visiblePlugin: window.innerWidth >= WIDE_ENOUGH_FOR_DOCS ? "Documentation Explorer" : undefined,
        isHeadersEditorEnabled: false,
        shouldPersistHeaders: false,
      }),
    );
  });
})();
