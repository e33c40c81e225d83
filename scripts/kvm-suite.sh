#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs meson's kvm suite of BUILDDIR: with meson on this machine's /dev/kvm, or,
# without one, each kvm test (as `meson introspect --tests` lists it) in its own
# scripts/nested-kvm.sh VM, one after another with its meson timeout.
# A VM of its own per test, because the emulated machine itself (QEMU TCG running
# kvm-amd) has locked up now and then (soft lockups of its kernel, not of hatvm);
# a test whose VM failed (status 125, its console printed) is run again in a
# fresh VM, at most twice, and each retry is said. Meson's runner is not used
# inside the VM: it only added a second place to hang. Everything there runs
# several times slower than on a KVM host, so the tests' time limits (meson's,
# and Check's through CK_TIMEOUT_MULTIPLIER) are scaled by $HATVM_NESTED_SLOWDOWN
# (default 3).
# Usage: scripts/kvm-suite.sh BUILDDIR
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:?usage: scripts/kvm-suite.sh BUILDDIR}
if [ -e /dev/kvm ]; then
	exec meson test -C "$builddir" --suite kvm --print-errorlogs
fi
echo "kvm-suite: /dev/kvm is absent; the kvm tests of $builddir run in nested-KVM VMs (scripts/nested-kvm.sh)"
slowdown=${HATVM_NESTED_SLOWDOWN:-3}
[[ $slowdown =~ ^[1-9][0-9]*$ ]] || { echo "kvm-suite: HATVM_NESTED_SLOWDOWN must be a positive integer" >&2; exit 2; }
export CK_TIMEOUT_MULTIPLIER=$slowdown
jobs=$(mktemp -d /tmp/kvm-suite.XXXXXX)
trap 'rm -rf "$jobs"' EXIT

# One script per kvm test in $jobs (NAME.sh), and "NAME TIMEOUT" lines on stdout.
meson introspect --tests "$builddir" | python3 -c '
import json, shlex, sys
builddir, jobs, slowdown = sys.argv[1], sys.argv[2], int(sys.argv[3])
for t in json.load(sys.stdin):
    if not any(s.endswith(":kvm") or s == "kvm" for s in t["suite"]):
        continue
    env = " ".join(shlex.quote(k + "=" + v) for k, v in (t.get("env") or {}).items())
    cmd = " ".join(shlex.quote(c) for c in t["cmd"])
    wd = shlex.quote(t["workdir"] or builddir)
    name, limit = t["name"], t["timeout"] * slowdown
    with open(f"{jobs}/{name}.sh", "w") as f:
        f.write(f"cd {wd} && exec env {env} timeout {limit} {cmd}\n")
    print(name, limit)
' "$(realpath "$builddir")" "$jobs" "$slowdown" >"$jobs/list"

# Runs test NAME in a fresh VM, its output into LOG; the VM outlives the test's own timeout a little.
run_in_vm() {
	local name=$1 limit=$2 log=$3
	scripts/nested-kvm.sh --timeout $((limit + 180)) -- bash "$jobs/$name.sh" >"$log" 2>&1
}

fail=0
while read -r name limit; do
	log=$builddir/meson-logs/kvm-$name.log
	start=$(date +%s) rc=0
	run_in_vm "$name" "$limit" "$log" || rc=$?
	for retry in 1 2; do
		[ "$rc" = 125 ] || break
		echo "kvm $name: the VM failed (not the test); its log:"; tail -n 40 "$log"
		echo "kvm $name: running it again in a fresh VM (retry $retry of 2)"
		rc=0; run_in_vm "$name" "$limit" "$log" || rc=$?
	done
	echo "kvm $name: $([ "$rc" = 0 ] && echo OK || echo "FAIL rc=$rc") $(($(date +%s) - start))s"
	[ "$rc" = 0 ] || { fail=1; tail -n 60 "$log"; }
done <"$jobs/list"
exit "$fail"
