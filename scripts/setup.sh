#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs what hatvm needs (Debian 12 packages: the build, the tests, the fuzzers),
# configures and builds.
# Usage: scripts/setup.sh [BUILDDIR [MESON OPTIONS...]]   (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true

packages=(gcc meson ninja-build pkg-config libelf-dev check libjansson-dev
	  clang libclang-rt-14-dev)   # scripts/fuzz.sh: clang and its libFuzzer/sanitizer runtimes

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -d "$builddir/meson-private" ]; then
	meson configure "$builddir" "$@" >/dev/null
else
	meson setup "$builddir" "$@"
fi
ninja -C "$builddir"
