#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sets up and builds hatvm, then runs every test suite (unit and kvm),
# once on a normal build and once with AddressSanitizer and UBSan; the unit
# suite once more under ThreadSanitizer (the hosted MM's racing CPUs, vmm's
# threads); then the static analysis of the host code and every fuzzer
# (corpus replay + 20 s each).
# Without /dev/kvm the kvm suite runs inside scripts/nested-kvm.sh's VM, where
# Debian's kvm-amd gives it a real /dev/kvm: it never just skips.
set -euo pipefail

cd "$(dirname "$0")/.."

scripts/setup.sh build
meson test -C build --suite unit --print-errorlogs
scripts/kvm-suite.sh build

scripts/setup.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --suite unit --print-errorlogs
scripts/kvm-suite.sh build-asan
unset ASAN_OPTIONS UBSAN_OPTIONS

scripts/setup.sh build-tsan -Db_sanitize=thread -Db_lundef=false -Dbenchmarks=false
TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --suite unit --print-errorlogs

scripts/analyze.sh
scripts/fuzz.sh 20
