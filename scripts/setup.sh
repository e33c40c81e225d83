#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs what hatvm needs (Debian 12 or Ubuntu 24.04 packages: the build, the tests,
# the fuzzers, the man page, the CI lint), checks meson's version, configures and builds.
# Runs as root, or as a user with sudo (only apt-get runs under sudo).
# Usage: scripts/setup.sh [BUILDDIR [MESON OPTIONS...]]   (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true

MESON_MIN=1.0   # meson.build's meson_version

# The distribution's clang and the libFuzzer/sanitizer runtimes of that clang version.
clang_runtime() {
	local id="" version=""
	# shellcheck disable=SC1091
	[ -r /etc/os-release ] && { . /etc/os-release; id=${ID:-}; version=${VERSION_ID:-}; }
	case "$id:$version" in
	debian:12) echo libclang-rt-14-dev ;;
	ubuntu:24.04) echo libclang-rt-18-dev ;;
	*)
		echo "setup: untested distribution '$id $version' (tested: Debian 12, Ubuntu 24.04);" \
			"assuming Debian 12's package names" >&2
		echo libclang-rt-14-dev ;;
	esac
}

packages=(
	gcc meson ninja-build pkg-config libelf-dev libjansson-dev   # the build
	check gdb                       # the unit and kvm suites (gdb: the gdb stub's kvm test)
	scdoc                           # the man page, doc/vmm.1.scd
	yamllint                        # the CI definitions, linted by the unit suite
	clang "$(clang_runtime)"        # scripts/fuzz.sh: clang and its libFuzzer/sanitizer runtimes
)
# Without /dev/kvm the kvm suite runs in scripts/nested-kvm.sh's QEMU VM.
[ -e /dev/kvm ] || packages+=(qemu-system-x86 busybox-static cpio kmod)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			{ echo "setup: missing packages ${missing[*]}, and no sudo to install them as $(id -un)" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "setup: installing ${missing[*]} (apt-get${sudo:+ via sudo})"
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
	echo "setup: every package is installed (${packages[*]})"
fi

# meson.build needs $MESON_MIN; a distribution's older meson gives a less helpful error.
meson_version=$(meson --version)
if [ "$(printf '%s\n%s\n' "$MESON_MIN" "$meson_version" | sort -V | head -n1)" != "$MESON_MIN" ]; then
	echo "setup: meson $meson_version is older than $MESON_MIN; install a newer one" \
		"(e.g. 'pipx install meson') and put it first in PATH" >&2
	exit 1
fi

if [ -d "$builddir/meson-private" ]; then
	meson configure "$builddir" "$@" >/dev/null
else
	meson setup "$builddir" "$@"
fi
ninja -C "$builddir"
