#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# unit suite: every option and subcommand `vmm --help` names appears in the man page's source.
# Usage: test_man.sh VMM vmm.1.scd vmm.1
set -uo pipefail

[ $# -eq 3 ] || { echo "usage: $0 VMM vmm.1.scd vmm.1" >&2; exit 99; }
vmm=$1 source=$2 page=$3
failed=0

help=$("$vmm" --help) || { echo "FAIL: $vmm --help failed" >&2; exit 1; }
# long options (--mem), short ones (-m,) and subcommands (vmm check-core)
mapfile -t names < <({
	grep -o -- '--[a-z][a-z-]*' <<<"$help"
	grep -oE -- '(^|[[:space:]])-[a-zA-Z],' <<<"$help" | tr -d ' ,'
	grep -oE -- 'vmm [a-z][a-z-]+ ' <<<"$help" | awk '{ print $2 }'
} | sort -u)
[ ${#names[@]} -gt 10 ] || { echo "FAIL: found only ${#names[@]} options in --help" >&2; exit 1; }
for name in "${names[@]}"; do
	grep -qF -- "$name" "$source" || { echo "FAIL: $source lacks $name (from vmm --help)" >&2; failed=1; }
done
grep -q '^\.TH "vmm" "1"' "$page" || { echo "FAIL: $page is not a man page built from $source" >&2; failed=1; }
[ $failed -eq 0 ] && echo "ok: the man page names all ${#names[@]} options and subcommands of vmm --help"
exit $failed
