#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs meson's kvm suite of BUILDDIR: with meson on this machine's /dev/kvm, or,
# without one, each kvm test (as `meson introspect --tests` lists it) inside
# scripts/nested-kvm.sh's VM, one after another with its meson timeout.
# (Inside that VM meson's own runner has hung waiting on a test; the tests run
# alone did not, so the VM runs them directly.)
# Usage: scripts/kvm-suite.sh BUILDDIR
set -euo pipefail

cd "$(dirname "$0")/.."
builddir=${1:?usage: scripts/kvm-suite.sh BUILDDIR}
if [ -e /dev/kvm ]; then
	exec meson test -C "$builddir" --suite kvm --print-errorlogs
fi
echo "kvm-suite: /dev/kvm is absent; the kvm suite of $builddir runs in a nested-KVM VM (scripts/nested-kvm.sh)"
job=$(mktemp /tmp/kvm-suite.XXXXXX)
trap 'rm -f "$job"' EXIT
meson introspect --tests "$builddir" | python3 -c '
import json, shlex, sys
tests = [t for t in json.load(sys.stdin) if any(s.endswith(":kvm") or s == "kvm" for s in t["suite"])]
print("fail=0")
for t in tests:
    env = " ".join(shlex.quote(k + "=" + v) for k, v in (t.get("env") or {}).items())
    cmd = " ".join(shlex.quote(c) for c in t["cmd"])
    wd = shlex.quote(t["workdir"] or sys.argv[1])
    log = shlex.quote(sys.argv[1] + "/meson-logs/kvm-" + t["name"] + ".log")
    name, limit = t["name"], t["timeout"]
    print(f"s=$(date +%s); (cd {wd} && env {env} timeout {limit} {cmd}) >{log} 2>&1; rc=$?")
    print(f"echo \"kvm {name}: $([ $rc = 0 ] && echo OK || echo FAIL rc=$rc) $(( $(date +%s) - s ))s\"")
    print(f"[ $rc = 0 ] || {{ fail=1; tail -n 60 {log}; }}")
print("exit $fail")
' "$(realpath "$builddir")" >"$job"
exec scripts/nested-kvm.sh -- bash "$job"
