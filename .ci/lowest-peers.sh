#!/usr/bin/env bash
# The test suite with every peer dependency at the lowest version its range in package.json accepts (drizzle-orm,
# bson 6, msgpackr 1, cbor-x, pg), in a scratch copy of the repository; the devDependencies hold the newest ones,
# which `npm test` covers. zod stays at 4: the tests are written against zod 4's API. The Postgres tests run as in
# `npm test` (a throwaway server, or VALKEYRIE_TEST_POSTGRES_URL), and VALKEYRIE_REQUIRE_POSTGRES=1 makes them required.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The lowest version of each range: its first bound (`^6.10.0 || ^7.0.0` -> 6.10.0, `>=0.40.0 <0.46.0` -> 0.40.0).
mapfile -t lowest < <(node -e '
  const { peerDependencies } = require(process.argv[1])
  for (const name of ["drizzle-orm", "bson", "msgpackr", "cbor-x", "pg"]) {
    const low = /\d+\.\d+\.\d+/.exec(peerDependencies[name])
    if (!low) throw new Error(`no lowest version in the range of ${name}: ${peerDependencies[name]}`)
    console.log(`${name}@${low[0]}`)
  }' "$ROOT/package.json")

COPY=
trap 'rm -rf "$COPY"' EXIT
scratch_copy
step "install ${lowest[*]}" env -C "$COPY" npm install --no-save --no-audit --no-fund --loglevel=error "${lowest[@]}"
installed() {
  node -e '
    const { readFileSync } = require("node:fs")
    for (const spec of process.argv.slice(2)) {
      const [, name, version] = /^(.+)@([^@]+)$/.exec(spec)
      const found = JSON.parse(readFileSync(`${process.argv[1]}/node_modules/${name}/package.json`, "utf8")).version
      console.log(`${name} ${found}`)
      if (found !== version) throw new Error(`${name} is ${found}, not ${version}`)
    }' "$COPY" "${lowest[@]}"
}
step "installed" installed
step "typecheck against them" env -C "$COPY" npx tsc -p tsconfig.json --noEmit
step "test suite at the lowest peers" env -C "$COPY" npx vitest run
