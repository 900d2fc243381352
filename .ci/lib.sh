# Shared by the .ci scripts (sourced, not run): steps with their duration, Node versions from the npm registry's
# `node` package, better-sqlite3 built for them, and scratch copies of the repository.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloads and builds that later runs may reuse; a clean CI machine starts with an empty one.
CI_CACHE="${VALKEYRIE_CI_CACHE:-${TMPDIR:-/tmp}/valkeyrie-ci-cache}"
CI_PLATFORM="$(node -p 'process.platform + "-" + process.arch')"
mkdir -p "$CI_CACHE"

# step NAME COMMAND...: runs a command under a heading and prints how long it took.
step() {
  local name=$1 start=$SECONDS
  shift
  printf '\n=== %s\n' "$name"
  "$@"
  printf '=== %s: %ss\n' "$name" "$((SECONDS - start))"
}

# node_bin MAJOR: installs the newest node@MAJOR from the npm registry into the cache; sets NODE_BIN to its bin folder.
node_bin() {
  local dir="$CI_CACHE/node$1"
  local home="$dir/node_modules/node/node_modules/node-$CI_PLATFORM"
  if [ ! -x "$home/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    printf '{ "private": true, "allowScripts": { "node": true } }\n' >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "node@$1" >&2 && npm rebuild node --loglevel=error >&2)
  fi
  NODE_BIN="$home/bin"
  "$NODE_BIN/node" --version
}

# scratch_copy: a copy of the working tree in a temporary folder, node_modules hard-linked (npm and vitest replace
# files there rather than write into them; the few that are written in place are removed from the copy first).
# Sets COPY to its path; the caller removes it.
scratch_copy() {
  local dest
  dest="$(mktemp -d "${TMPDIR:-/tmp}/valkeyrie-copy-XXXXXX")"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$dest"
  cp -al "$ROOT/node_modules" "$dest/node_modules"
  rm -rf "$dest/node_modules/.package-lock.json" "$dest/node_modules/.vite" "$dest/node_modules/.vite-temp"
  COPY="$dest"
}

# use_better_sqlite3_for NODE_BIN COPY: puts into the copy the better-sqlite3 that npm installs on that Node for the
# package's range, as a user there gets it: npm prefers the newest release whose `engines` accept the running Node
# (12.x on Node 20; 13.x, which needs Node 22, on 22 and later). A release without a prebuilt binary is built from
# source with that Node's headers (they come with the npm package). Installs are cached per Node version.
use_better_sqlite3_for() {
  local bin=$1 copy=$2 range node_version dir pkg
  range="$(node -p 'require(process.argv[1]).dependencies["better-sqlite3"]' "$ROOT/package.json")"
  node_version="$("$bin/node" --version)"
  dir="$CI_CACHE/better-sqlite3-for-node-$node_version-$CI_PLATFORM"
  if [ ! -f "$dir/installed" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    printf '{ "private": true, "dependencies": { "better-sqlite3": "%s" }, "allowScripts": { "better-sqlite3": true } }\n' \
      "$range" >"$dir/package.json"
    (cd "$dir" && PATH="$bin:$PATH" npm_config_nodedir="$(dirname "$bin")" JOBS=max \
      npm install --no-audit --no-fund --loglevel=error >"$CI_CACHE/better-sqlite3-build.log" 2>&1) ||
      { tail -40 "$CI_CACHE/better-sqlite3-build.log" >&2; return 1; }
    touch "$dir/installed"
  fi
  for pkg in "$dir"/node_modules/*; do
    [ "$(basename "$pkg")" = ".package-lock.json" ] && continue
    rm -rf "$copy/node_modules/$(basename "$pkg")"
    cp -a "$pkg" "$copy/node_modules/"
  done
  echo "better-sqlite3 $(node -p 'require(process.argv[1]).version' "$dir/node_modules/better-sqlite3/package.json") for Node $node_version"
}
