#!/usr/bin/env bash
# Format the whole tree once and turn the format check on in `npm run lint`.
#
# Until this runs, `npm run lint` checks lint rules only (`--formatter-enabled=false`): formatting
# the tree on one branch would conflict with every other open branch. Run it once, on main, after
# the open branches have merged, and commit the result alone as one mechanical commit:
#
#   scripts/format-all.sh && git commit -am 'Format the tree with Biome; lint checks formatting'
#
# Then add that commit's hash to .git-blame-ignore-revs so `git blame` skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
npx biome format --write .
# the gate: from now on `npm run lint` is lint + format check
node -e '
  const fs = require("node:fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  pkg.scripts.lint = pkg.scripts.lint.replace(" --formatter-enabled=false", "");
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
'
npm run lint
git diff --shortstat
