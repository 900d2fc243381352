#!/usr/bin/env bash
# The test suite on other Node versions (default: 22 and 24; `npm test` covers the Node that runs it). Each comes
# from the npm registry's `node` package, and better-sqlite3 is built for it in a scratch copy of the repository,
# so the repository's node_modules keeps the build for the Node it was installed with.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
COPY=
trap 'rm -rf "$COPY"' EXIT
for major in "${majors[@]}"; do
  scratch_copy
  step "Node $major: node@$major from the npm registry" node_bin "$major"
  step "Node $major: build better-sqlite3 for it" use_better_sqlite3_for "$NODE_BIN" "$COPY"
  step "Node $major: test suite" env -C "$COPY" PATH="$NODE_BIN:$PATH" npx vitest run
  rm -rf "$COPY"
done
