#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sets up and builds hatvm, then runs every test suite (unit and kvm),
# once on a normal build and once with AddressSanitizer and UBSan; then the
# static analysis of the host code and every fuzzer (corpus replay + 20 s each).
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh build
meson test -C build --print-errorlogs

scripts/setup.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

scripts/analyze.sh
scripts/fuzz.sh 20
