// Compares the schema with the last released one (graphql-inspector's diff) and fails
// on a breaking change that CHANGELOG.md does not declare, or on a field or value
// removed without having been deprecated in the released schema (a deprecation carries
// `@deprecated(reason:)` for at least one release before the removal).
//
//   node tests/schema/check.mjs [--released F] [--schema F] [--changelog F]
//
// A breaking change is declared by a line of the changelog's "Unreleased" section that
// starts with "- Breaking:" and names the change's path (`AuditRecord.withheld`).
// Exit status: 0 when every breaking change is declared, 1 otherwise, 2 on bad input.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { buildSchema } from "graphql";
import { diff, CriticalityLevel } from "@graphql-inspector/core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const files = {
  released: option("--released", join(here, "released.graphql")),
  schema: option("--schema", join(root, "schema.graphql")),
  changelog: option("--changelog", join(root, "CHANGELOG.md")),
};

let released, current, changelog;
try {
  released = buildSchema(readFileSync(files.released, "utf8"));
  current = buildSchema(readFileSync(files.schema, "utf8"));
  changelog = readFileSync(files.changelog, "utf8");
} catch (error) {
  console.error(`schema check: ${error.message}`);
  process.exit(2);
}

// The "Unreleased" section's "- Breaking:" lines.
const unreleased = (changelog.split(/^## /m).find((s) => s.startsWith("Unreleased")) ?? "")
  .split("\n")
  .filter((line) => line.startsWith("- Breaking:"));

// Whether the released schema deprecated what `path` (Type.field or Enum.VALUE) names.
const wasDeprecated = (path) => {
  const [type, member] = path.split(".");
  const named = released.getType(type);
  if (!named || !member) return false;
  if (typeof named.getFields === "function") return Boolean(named.getFields()[member]?.deprecationReason);
  if (typeof named.getValue === "function") return Boolean(named.getValue(member)?.deprecationReason);
  return false;
};

const changes = await diff(released, current);
const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
const failures = [];
for (const change of breaking) {
  const path = change.path ?? "";
  const removed = change.type === "FIELD_REMOVED" || change.type === "ENUM_VALUE_REMOVED";
  if (removed && !wasDeprecated(path)) {
    failures.push(`${path}: removed without a deprecation in the released schema (${change.message})`);
  } else if (!unreleased.some((line) => path && line.includes(path))) {
    failures.push(`${path}: a breaking change not declared in CHANGELOG.md (${change.message})`);
  }
}
const counts = Object.values(CriticalityLevel).map((l) => `${changes.filter((c) => c.criticality.level === l).length} ${l.toLowerCase()}`);
console.log(`schema check: ${changes.length} changes since the released schema (${counts.join(", ")})`);
for (const failure of failures) console.error(`  ${failure}`);
process.exit(failures.length ? 1 : 0);
