#!/usr/bin/env bash
# Makes the Debian unstable chroot that carries CPython 3.14 and 3.15 for the tests (pyenv stops at 3.13),
# with their venv modules (the install test makes virtual environments there).
# Usage: testdata/python/make_sid_chroot.sh [DIR]   (default: $HEAPGRAPH_SID_CHROOT or /opt/heapgraph-sid)
# Needs root and debootstrap (apt-get install debootstrap); takes about two minutes and 330 MB.
# The tests find the interpreters at DIR/usr/bin/python3.1[45] and run them with `chroot DIR`.
set -euo pipefail
dir=${1:-${HEAPGRAPH_SID_CHROOT:-/opt/heapgraph-sid}}
packages=(python3.14 python3.15 python3.14-venv python3.15-venv)
if [ -x "$dir/usr/bin/python3.14" ] && [ -x "$dir/usr/bin/python3.15" ]; then
  # A chroot made before it carried the venv modules gets them from its own package lists; when the
  # archive has moved on since, the lists are refreshed first.
  if ! chroot "$dir" dpkg -s python3.14-venv python3.15-venv >/dev/null 2>&1; then
    chroot "$dir" apt-get install -y -qq python3.14-venv python3.15-venv >/dev/null 2>&1 ||
      { chroot "$dir" apt-get update -qq && chroot "$dir" apt-get install -y -qq python3.14-venv python3.15-venv >/dev/null; }
  fi
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null)
partial="$dir.partial"
rm -rf "$partial"
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" sid "$partial" >"$partial.log" 2>&1 || {
  echo "debootstrap of $dir failed; its log: $partial.log" >&2
  exit 1
}
rm -f "$partial.log"
rm -rf "$dir"
mv "$partial" "$dir"
