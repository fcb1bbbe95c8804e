// The playground: GraphiQL served from this service, with a fetcher that adds the token
// from memory (GraphiQL never sees it, so its history cannot keep it) and a storage in
// memory (nothing GraphiQL keeps reaches the browser's storage). Beside the editors:
// the Explorer (a question built by clicking fields, arguments and filters), the
// results view (any answer as tables and a chart, downloadable as CSV with its
// provenance), the code exporter with the question's shareable link, and the schema's
// documentation. Subscriptions run over /graphql/ws; the toolbar's price button sends
// the question as a dry run (`extensions: { dryRun: true }`).
"use strict";
(function () {
  const EXAMPLES = [
    {
      query: `# The screening funnel, and enrolled patients by region and month of 2024.
query ScreeningAndEnrolment {
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
query CohortMonitoring {
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
query OverallSurvival {
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
query AdverseEventsByDrug {
  adverseEvents(split: DRUG) {
    split { code } category treated { value precision rule }
    grade3Plus { numerator { value } estimate { value } lower95 { value } upper95 { value } }
  }
}
`,
    },
    {
      query: `# Who you are, and what your budgets are.
query MyAccess {
  viewer { partner { code name kind } scopes tokenId expiresAt }
  rateLimit { limit remaining resetAt }
  privacyBudget { epsilonPerValue epsilonSpent epsilonRemaining resetsAt }
}
`,
    },
    {
      query: `# The data version, live: a new answer each time new data lands (over /graphql/ws).
subscription DataVersions {
  dataVersions { version builtAt }
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

  // The operation `params` asks for in `document` (a parsed query): query, mutation or
  // subscription.
  function operationOf(document, operationName) {
    const operations = ((document && document.definitions) || []).filter((d) => d.kind === "OperationDefinition");
    const chosen = operations.find((d) => d.name && d.name.value === operationName) || (operations.length === 1 ? operations[0] : null);
    return chosen ? chosen.operation : "query";
  }

  // Whether the next request is sent as a dry run (set by the toolbar's price button).
  let pricing = false;
  function fetcher(params, options) {
    const extensions = pricing ? { dryRun: true } : undefined;
    pricing = false;
    let document = options && options.documentAST;
    try {
      document = document || GraphiQL.GraphQL.parse(params.query);
    } catch (_) {
      // Not a document: sent as it is, for the service to say why.
    }
    if (operationOf(document, params.operationName) === "subscription") {
      return Session.subscribe(params.query, params.variables, params.operationName);
    }
    return Session.graphql(params.query, params.variables, params.operationName, extensions);
  }

  // The toolbar's price button: runs the question as a dry run, which spends nothing and
  // answers with what it would cost (`extensions.privacyCost`) on the noisy tier.
  function PriceButton() {
    const execution = GraphiQL.React.useExecutionContext({ nonNull: true });
    return React.createElement(
      GraphiQL.React.ToolbarButton,
      {
        label: "Price this question (a dry run: nothing is released or spent)",
        className: "price-button",
        onClick: () => {
          pricing = true;
          execution.run();
        },
      },
      React.createElement("span", { "aria-hidden": true, style: { fontWeight: 600 } }, "ε?"),
    );
  }

  // A question opened from a shared link comes first, in a tab of its own.
  const shared = Exporter.opened();
  const tabs = shared ? [{ query: shared.query, variables: shared.variables }, ...EXAMPLES] : EXAMPLES;
  // Our plugins give their icon as an SVG path, drawn here in GraphiQL's line style.
  function withIcon({ iconPath, ...plugin }) {
    const icon = () =>
      React.createElement(
        "svg",
        { viewBox: "0 0 24 24", width: 20, height: 20, fill: "none", stroke: "currentColor", strokeWidth: 1.5 },
        React.createElement("path", { d: iconPath }),
      );
    return { ...plugin, icon };
  }
  const plugins = [GraphiQLPluginExplorer.explorerPlugin({ showAttribution: false }), withIcon(Results.plugin()), withIcon(Exporter.plugin())];

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  Session.bind(function (viewer) {
    document.getElementById("welcome").hidden = true;
    document.getElementById("graphiql").hidden = false;
    // A new key mounts GraphiQL afresh, so the schema is fetched with the new token.
    root.render(
      React.createElement(GraphiQL, {
        key: viewer.partner.code + ":" + Date.now(),
        fetcher,
        storage,
        defaultTabs: tabs,
        plugins,
        toolbar: { additionalContent: React.createElement(PriceButton) },
        // The documentation opens beside the editors where there is room for all three;
        // on a narrower screen the editors keep the width (the docs are one click away).
        visiblePlugin: window.innerWidth >= WIDE_ENOUGH_FOR_DOCS ? "Documentation Explorer" : undefined,
        isHeadersEditorEnabled: false,
        shouldPersistHeaders: false,
      }),
    );
  });
})();
