#!/usr/bin/env bash
# Installs Chrome DevTools' front end and esbuild, at pinned versions, from npm into a cache directory,
# bundles DevTools' heap snapshot worker for Node (build.mjs) and prints the bundle's path. Returns at once
# when the bundle is there. summary.mjs runs the bundle on a snapshot.
#   HEAPGRAPH_CACHE  where to install (default: $XDG_CACHE_HOME/heapgraph or ~/.cache/heapgraph)
set -euo pipefail
devtools_version=1.0.1705227
esbuild_version=0.28.2
here=$(cd "$(dirname "$0")" && pwd)
cache=${HEAPGRAPH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/heapgraph}/devtools-$devtools_version
bundle=$cache/heap_snapshot_worker.mjs
mkdir -p "$cache"
# Tests run in parallel: one installs, the others wait for it.
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$bundle" ] || [ "$here/build.mjs" -nt "$bundle" ]; then
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error \
    "chrome-devtools-frontend@$devtools_version" "esbuild@$esbuild_version" >&2
  node "$here/build.mjs" "$cache/node_modules" "$bundle.tmp"
  mv "$bundle.tmp" "$bundle"
fi
echo "$bundle"
