#!/usr/bin/env bash
# The package as the ecosystem receives it: packed from a tree without dist/ (so the pack has to build it, as
# publishing and installing from git do), its contents and source maps checked, linted by publint and
# are-the-types-wrong, then installed from the tarball into a fresh application with every peer at its current
# release (no --force), run, and type-checked under TypeScript 5.9 and 7.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/valkeyrie-package-XXXXXX")"
# KEEP_PACKAGE_WORK=1 keeps the tarball and the application for a look afterwards.
[ -n "${KEEP_PACKAGE_WORK:-}" ] && echo "work folder: $WORK" || trap 'rm -rf "$WORK"' EXIT
APP="$WORK/app"

pack() {
  rm -rf "$ROOT/dist"
  (cd "$ROOT" && npm pack --pack-destination "$WORK" --loglevel=error >/dev/null)
  TARBALL="$(ls "$WORK"/valkeyrie-*.tgz)"
  mkdir "$WORK/unpacked" && tar -xzf "$TARBALL" -C "$WORK/unpacked"
  (cd "$WORK/unpacked/package" && find . -type f | sed 's|^\./||' | sort) >"$WORK/files"
  echo "$(wc -l <"$WORK/files") files, $(du -k "$TARBALL" | cut -f1) kB packed"
}

# Every public module is there, built; nothing of the repository's tests, benchmarks or tooling is.
contents() {
  local missing=0
  for file in package.json README.md LICENSE dist/index.js dist/index.d.ts dist/u64.js dist/serializers/index.js \
    dist/serializers/json.js dist/serializers/bson.js dist/serializers/msgpackr.js dist/serializers/cbor-x.js \
    dist/drizzle.js dist/testing/index.js dist/cli/main.js drizzle/sqlite/meta/_journal.json src/index.ts; do
    grep -qx "$file" "$WORK/files" || { echo "missing from the package: $file" >&2; missing=1; }
  done
  if grep -E '^(test|bench|examples|\.ci|node_modules)/|\.db$|^tsconfig|^vitest' "$WORK/files" >&2; then
    echo 'the files above do not belong in the package' >&2
    missing=1
  fi
  return $missing
}

# Every source a map names is in the package (the maps point at src/, which is shipped).
source_maps() {
  node -e '
    const { readFileSync, existsSync } = require("node:fs")
    const { dirname, resolve, relative } = require("node:path")
    const root = process.argv[1]
    const maps = readFileSync(process.argv[2], "utf8").split("\n").filter((f) => f.endsWith(".map"))
    const broken = []
    for (const map of maps) {
      const { sources, sourceRoot = "" } = JSON.parse(readFileSync(resolve(root, map), "utf8"))
      for (const source of sources) {
        const file = resolve(root, dirname(map), sourceRoot, source)
        if (!file.startsWith(root + "/") || !existsSync(file)) broken.push(`${map} -> ${source}`)
      }
    }
    if (broken.length) { console.error("source maps point at files not in the package:\n" + broken.join("\n")); process.exit(1) }
    console.log(`${maps.length} source maps, every source in the package`)
  ' "$WORK/unpacked/package" "$WORK/files"
}

fresh_app() {
  mkdir -p "$APP"
  cp "$ROOT"/.ci/fresh-app/* "$APP/"
  # npm 11 runs a dependency's install script only when the application allows it: better-sqlite3 builds its addon.
  printf '{ "name": "app", "private": true, "type": "module", "allowScripts": { "better-sqlite3": true } }\n' >"$APP/package.json"
  (cd "$APP" && npm install --no-audit --no-fund --loglevel=error "$TARBALL" \
    drizzle-orm@latest bson@latest msgpackr@latest cbor-x@latest zod@latest @types/node@20 \
    typescript-5.9@npm:typescript@~5.9 typescript-7@npm:typescript@^7)
  (cd "$APP" && npm ls valkeyrie drizzle-orm bson msgpackr cbor-x zod better-sqlite3 typescript-5.9 typescript-7)
  local copies
  copies="$(cd "$APP" && find node_modules -path '*/drizzle-orm/package.json' -not -path '*/drizzle-orm/*/*' | wc -l)"
  [ "$copies" = 1 ] || { echo "drizzle-orm is installed $copies times" >&2; return 1; }
}

run_app() { (cd "$APP" && node check.mjs); }

# The installed bin: npx finds it, and a set, get and export round through a file.
run_cli() {
  (cd "$APP" && npx --no-install valkeyrie --help >/dev/null &&
    npx --no-install valkeyrie set cli.db '["a", {"$$":"bigint","v":"1"}]' '{"$$":"KvU64","v":"5"}' >/dev/null &&
    [ "$(npx --no-install valkeyrie get cli.db '["a", {"$$":"bigint","v":"1"}]')" = 'KvU64 { value: 5n }' ] &&
    [ "$(npx --no-install valkeyrie export cli.db)" = '{"key":["a",{"$$":"bigint","v":"1"}],"value":{"$$":"KvU64","v":"5"}}' ] &&
    rm -f cli.db*)
}

# tsc TS [OPTIONS]: type-checks the application with that TypeScript. With the library check on, errors inside
# other packages' declarations are theirs and left out (drizzle-orm's need the drivers of its other dialects);
# any error in the application or in valkeyrie's declarations fails.
tsc() {
  local ts=$1 out ours
  shift
  out="$(cd "$APP" && node "node_modules/$ts/bin/tsc" -p tsconfig.json --pretty false "$@" 2>&1)" && return 0
  ours="$(grep -v '^ ' <<<"$out" | grep -vE '^node_modules/' ; grep -E '^node_modules/valkeyrie/' <<<"$out")" || true
  if [ -n "$ours" ] || [[ " $* " == *" --skipLibCheck "* ]]; then
    echo "$out" >&2
    return 1
  fi
  echo "  ($(grep -c 'error TS' <<<"$out") errors inside other packages' declarations left out)"
}

# app.ts first without @types/better-sqlite3 (the package's types must not need it), then with it and own-db.ts,
# an application's own Drizzle database; each time with and without skipLibCheck, under both TypeScript versions.
typecheck_app() {
  local ts
  for ts in typescript-5.9 typescript-7; do
    echo "$ts: $(node "$APP/node_modules/$ts/bin/tsc" --version)"
    tsc "$ts"
    tsc "$ts" --skipLibCheck
  done
  (cd "$APP" && npm install --no-audit --no-fund --loglevel=error @types/better-sqlite3@latest)
  node -e 'const f=process.argv[1],c=require(f);c.files.push("own-db.ts");require("fs").writeFileSync(f,JSON.stringify(c))' "$APP/tsconfig.json"
  for ts in typescript-5.9 typescript-7; do
    echo "$ts, with @types/better-sqlite3 and own-db.ts"
    tsc "$ts"
    tsc "$ts" --skipLibCheck
  done
}

step "pack (builds dist/ itself)" pack
step "package contents" contents
step "source maps" source_maps
step "publint" env -C "$ROOT" npx publint run "$TARBALL" --strict
# esm-only: the package is ES modules only (Node 20.19+ can require() it); the CommonJS view is not judged.
step "are-the-types-wrong" env -C "$ROOT" npx attw "$TARBALL" --profile esm-only --format table
step "fresh application: install the tarball with every peer at its current release" fresh_app
step "fresh application: run it" run_app
step "fresh application: the valkeyrie command" run_cli
step "fresh application: type-check it under TypeScript 5.9 and 7" typecheck_app
