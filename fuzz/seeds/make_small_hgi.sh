#!/bin/sh
# Writes seeds/index/small.hgi: the index heapgraph writes for seeds/hgd/small.hgd, the dump the `index`
# fuzz target opens its inputs against. Remake it when the index format or heapgraph's version changes,
# or the fuzzer spends its time on files refused at the version check.
#
#     sh fuzz/seeds/make_small_hgi.sh [path/to/heapgraph]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
heapgraph=${1:-heapgraph}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$here/hgd/small.hgd" "$scratch/small.hgd"
"$heapgraph" types --index-dir "$scratch/index" "$scratch/small.hgd" >/dev/null
mkdir -p "$here/index"
cp "$scratch"/index/*.hgi "$here/index/small.hgi"
echo "wrote $here/index/small.hgi" >&2
