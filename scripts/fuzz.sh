#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs every one of them.
# Usage: scripts/fuzz.sh [SECONDS]
#   SECONDS per harness (default 60); 0 only replays the seed corpora.
# Seeds live in fuzz/corpus/NAME (in the repository); what a run discovers goes to
# build-fuzz/corpus/NAME, crashes, leaks and timeouts to build-fuzz/crashes/NAME-*
# (FUZZ_BUILDDIR=DIR builds and runs in DIR instead of build-fuzz).
# Prints per harness the executions, coverage (cov: edges, ft: features) and peak RSS.
# Exit status 1 on any finding (naming the reproducer), 2 on a usage or build error.
set -euo pipefail

# One harness: replay (seconds 0) or campaign; returns libFuzzer's status.
run_harness() {
	local name=$1 log=$2
	local common=(-timeout=10 -rss_limit_mb=4096 -print_final_stats=1
		      -artifact_prefix="$b"/crashes/"$name"-)
	if [ "$seconds" -eq 0 ]; then
		"$b"/fuzz/fuzz_"$name" "${common[@]}" -runs=0 fuzz/corpus/"$name" >"$log" 2>&1
	else
		mkdir -p "$b"/corpus/"$name"
		"$b"/fuzz/fuzz_"$name" "${common[@]}" -max_total_time="$seconds" \
			"$b"/corpus/"$name" fuzz/corpus/"$name" >"$log" 2>&1
	fi
}

# "NAME: N executions, cov: E edges, ft: F features, peak RSS M MB" from a log.
summary() {
	local name=$1 log=$2 execs cov ft rss
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	echo "fuzz: $name: ${execs:-?} executions, cov: ${cov:-?} edges, ft: ${ft:-?} features, peak RSS ${rss:-?} MB"
}

main() {
	cd "$(dirname "$0")/.."
	seconds=${1:-60}
	case $seconds in
	'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; return 2 ;;
	esac
	b=${FUZZ_BUILDDIR:-build-fuzz}

	mkdir -p "$b"/crashes
	if ! CC=clang scripts/setup.sh "$b" -Dfuzzers=true -Dtests=false -Dbenchmarks=false \
		-Db_sanitize=address,undefined -Db_lundef=false >"$b"/fuzz-build.log 2>&1; then
		tail -40 "$b"/fuzz-build.log >&2
		echo "fuzz: building the harnesses failed (all of it in $b/fuzz-build.log)" >&2
		return 2
	fi
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

	local failed=0 name log reproducer
	for seeds in fuzz/corpus/*/; do
		name=$(basename "$seeds")
		log=$b/fuzz-$name.log
		echo "fuzz: $name (${seconds}s)"
		if ! run_harness "$name" "$log"; then
			tail -30 "$log" >&2
			reproducer=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | tail -1)
			echo "fuzz: $name FAILED: reproducer ${reproducer:-(none written)}; log $log" >&2
			echo "fuzz: replay it with $b/fuzz/fuzz_$name ${reproducer:-FILE}" >&2
			failed=1
		fi
		summary "$name" "$log"
	done
	return $failed
}

# The whole script is read before it runs: editing it during a long campaign is safe.
main "$@"; exit $?
