#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# unit suite: the CI definitions pass yamllint and run the README's two commands, so they cannot drift.
# Usage: test_ci.sh README.md YAMLLINT_CONFIG WORKFLOW.yml GITLAB_CI.yml
set -uo pipefail

[ $# -eq 4 ] || { echo "usage: $0 README.md YAMLLINT_CONFIG WORKFLOW.yml GITLAB_CI.yml" >&2; exit 99; }
readme=$1 config=$2 github=$3 gitlab=$4
failed=0

fail() {
	echo "FAIL: $*" >&2
	failed=1
}

# The first two commands of README's first ```sh block, without their comments.
readme_commands() {
	awk '/^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$readme" |
		sed -e 's/[[:space:]]*#.*$//' -e '/^$/d' | head -n 2
}

lint() {
	if ! command -v yamllint >/dev/null; then
		fail "yamllint is not installed (scripts/setup.sh installs it)"
		return
	fi
	yamllint -s -c "$config" "$github" "$gitlab" || fail "yamllint found problems (above)"
}

trimmed() {
	sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$1"
}

# Each command must be a step of its own: `run: CMD` in GitHub's, `- CMD` in GitLab's.
runs_commands() {
	local cmd
	mapfile -t commands < <(readme_commands)
	[ ${#commands[@]} -eq 2 ] || { fail "$readme: no two commands in its first sh block"; return; }
	for cmd in "${commands[@]}"; do
		trimmed "$github" | grep -Fxq "run: $cmd" ||
			fail "$github does not run the README's command \"$cmd\" as a step (run: $cmd)"
		trimmed "$gitlab" | grep -Fxq -- "- $cmd" ||
			fail "$gitlab does not run the README's command \"$cmd\" as a script line (- $cmd)"
	done
}

lint
runs_commands
[ $failed -eq 0 ] && echo "ok: both CI definitions lint clean and run: $(readme_commands | paste -sd ';')"
exit $failed
