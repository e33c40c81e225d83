#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sets up and builds hatvm (as scripts/test.sh does), runs every benchmark and prints
# all their figures as one table: figure, ours, baseline, ratio, target, met.
# Usage: scripts/bench.sh [--json FILE] [BUILD_DIR]   (default build dir: build)
# --json FILE also writes the table's rows as JSON (README: Benchmarks). Each
# program's own detailed output goes to BUILD_DIR/meson-logs/bench.log.
set -euo pipefail

json=""
builddir=build
while [ $# -gt 0 ]; do
	case "$1" in
	--json) [ $# -ge 2 ] || { echo "usage: $0 [--json FILE] [BUILD_DIR]" >&2; exit 2; }
		json=$(realpath -m -- "$2"); shift 2 ;;
	-h|--help) sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: $0 [--json FILE] [BUILD_DIR]" >&2; exit 2 ;;
	*) builddir=$1; shift ;;
	esac
done

cd "$(dirname "$0")/.."
scripts/setup.sh "$builddir" -Dbenchmarks=true
b=$builddir/bench
log=$builddir/meson-logs/bench.log
parts=$(mktemp -d)
trap 'rm -rf "$parts"' EXIT
: >"$log"

# name, then the program and its arguments; the KVM ones print "not measured" rows without /dev/kvm
run() {
	local name=$1
	shift
	echo "bench: running $name (details: $log)"
	echo "=== $name: $*" >>"$log"
	"$@" --json "$parts/$name.json" >>"$log" 2>&1 || {
		echo "bench: $name failed; the end of its output:" >&2
		tail -n 20 "$log" >&2
		exit 1
	}
}

run mm_hosted "$b/bench_mm_hosted"
run checker "$b/bench_checker"
run replay "$b/bench_replay" tests/data/traces
# Without /dev/kvm the KVM benchmarks run in scripts/nested-kvm.sh's VM (labelled emulated).
kvm=()
[ -e /dev/kvm ] || kvm=(scripts/nested-kvm.sh --mem 4G --)
run boot "${kvm[@]}" "$b/boot_bench" "$builddir/vmm/vmm" "$builddir/guest/guest.elf" "$b/kvm_floor"
run live_check "${kvm[@]}" "$b/live_check_bench" "$builddir/vmm/vmm" "$builddir/guest/guest.elf"
run hat "${kvm[@]}" "$b/hat_bench" "$builddir/vmm/vmm" "$builddir/guest/guest.elf"
run smp "${kvm[@]}" "$b/smp_bench" "$builddir/vmm/vmm" "$builddir/guest/guest.elf"
run replay_kvm "${kvm[@]}" "$b/bench_replay" tests/data/traces "$builddir/vmm/vmm" "$builddir/guest/guest.elf"

echo
"$b/bench_report" ${json:+--json "$json"} "$parts"/{mm_hosted,checker,replay,boot,live_check,hat,smp,replay_kvm}.json
