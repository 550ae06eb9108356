#!/usr/bin/env bash
# `npm run format -- FILE...`: format the files you name with Biome (biome.json).
# Without files it formats the whole tree, but only once the tree has had its formatting commit
# (scripts/format-all.sh, which turns the format check on in `npm run lint`): before that, formatting
# everything would rewrite files other open branches are changing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ] && grep -q -- '--formatter-enabled=false' package.json; then
  echo "format: name the files to format (npm run format -- src/x.ts): the tree has not had its" >&2
  echo "formatting commit yet (scripts/format-all.sh, run once by the lead after the open branches merge)." >&2
  exit 2
fi
exec npx biome format --write "${@:-.}"
