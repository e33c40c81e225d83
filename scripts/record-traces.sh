#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Re-records the shipped traces in tests/data/traces/ from real programs on this machine.
# Usage: scripts/record-traces.sh [VMM]     (VMM default: build/vmm/vmm)
# Needs perf (Debian: linux-perf) and root, or CAP_PERFMON with read access to
# /sys/kernel/tracing; gcc, make and python3 for the programs themselves.
# Prints `vmm trace-info` of each trace; exit status 2 when a recording fails.
set -euo pipefail

# A two-file C program and its Makefile, for make -j2 (object files build in parallel).
write_project() {
	local dir=$1
	mkdir -p "$dir"
	cat >"$dir/main.c" <<'C'
#include <stdio.h>
#include "sum.h"

int main(void)
{
	printf("sum of 1..100 = %ld\n", sum_to(100));
	return 0;
}
C
	cat >"$dir/sum.c" <<'C'
#include "sum.h"

long sum_to(long n)
{
	long s = 0;

	for (long i = 1; i <= n; i++)
		s += i;
	return s;
}
C
	printf 'long sum_to(long n);\n' >"$dir/sum.h"
	printf 'sum: main.o sum.o\n\t$(CC) -o $@ main.o sum.o\n%%.o: %%.c sum.h\n\t$(CC) -O2 -c $<\n' \
		>"$dir/Makefile"
}

# A small Python workload: objects built, sorted, serialised.
write_python() {
	cat >"$1" <<'PY'
import json
rows = [{"id": i, "name": "item%d" % i, "tags": [i % 7, i % 11]} for i in range(20000)]
rows.sort(key=lambda r: (r["tags"][0], -r["id"]))
print(len(json.dumps(rows)))
PY
}

# Children started the two ways a program does: posix_spawn (glibc's clone with
# CLONE_VM | CLONE_VFORK: a vfork) three times, then one fork.
write_spawn() {
	cat >"$1" <<'PY'
import os
for i in range(3):
    pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
PY
}

record() {
	local name=$1
	shift
	"$vmm" record -q -o "$out/$name.trace" -- "$@" >/dev/null
}

main() {
	cd "$(dirname "$0")/.."
	vmm=$(realpath "${1:-build/vmm/vmm}")
	out=$(realpath tests/data/traces)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT

	write_project "$work/proj"
	write_python "$work/rows.py"
	write_spawn "$work/spawn.py"
	record sh-pipeline sh -c 'ls /usr/bin | sort | head'
	(cd "$work/proj" && record make-j2 make -j2)
	record gcc-O2 gcc -O2 -c "$work/proj/sum.c" -o "$work/sum.o"
	# the distribution's python3, not a version manager's shell wrapper
	python=$(command -v /usr/bin/python3 || command -v python3)
	record python3 "$python" "$work/rows.py"
	record spawn "$python" "$work/spawn.py"
	for t in "$out"/*.trace; do
		"$vmm" trace-info "$t"
		echo
	done
}

main "$@" || exit 2
