#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Mutation testing of the memory manager: applies each mutant of mutants/mutants.tsv to a copy
# of the sources, builds, runs a fixed matrix and prints which observer killed it (README.md).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/mutate.sh [--engine hosted|kvm|both] [--asserts on|off|both] [--only ID[,ID...]]
                         [--seeds N[,N...]] [--nested] [--rev REV] [--json FILE] [--jobs N] [--keep]
Applies every mutant of mutants/mutants.tsv to a copy of the sources (the working tree is never
touched), builds it with guest assertions on and/or off (-Dguest_asserts), runs the fixed matrix
and prints the kill table and the mutation score.
  --engine   hosted (default): the MM compiled hosted, tests/mutate/mutate_driver (9 shapes x 3
             seeds, checker after every operation); kvm: guest.elf under vmm (5 workloads x 3 seeds,
             --check=checkpoints); both
  --asserts  both (default), on or off
  --only     just these mutants
  --seeds    the kvm engine's seeds (default 1,2,3; fewer is a documented subset of the matrix)
  --nested   when /dev/kvm is absent: run the kvm matrix in one scripts/nested-kvm.sh VM (the
             mutants are built here; only the runs happen in the VM; timings are not hardware's)
  --rev      mutate the sources of commit REV (git archive) instead of the working tree, e.g. HEAD
             while others edit the tree; the table is taken from REV too
  --json     also write every result as JSON to FILE
  --jobs     parallel builds (default: the number of CPUs, at most 4)
  --keep     keep the work directory (sources, builds, per-mutant logs) and print its path
  --kvm-classify DIR  the kill table of a kept work directory whose kvm runs were cut short
             (give the same --asserts and --seeds): the mutants with every run done
Columns: checkpoint (host checker at a checkpoint, IDs), after-stop (host checker only in the
check after the guest stopped), guest (the guest's own ASSERT ID, API, or panic), crash (signal,
trap or hang), model (the workload's model), survived. Exit status 0; 1 on a stale table, a
build or baseline failure; 2 on usage errors.
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
table=$root/mutants/mutants.tsv
engine=hosted asserts=both only= json= keep=0 seeds=1,2,3 nested=0 phase= rev= classify=
jobs=$(nproc 2>/dev/null || echo 1)
(( jobs > 4 )) && jobs=4
while (( $# )); do
	case $1 in
	--engine) engine=${2:?}; shift ;;
	--asserts) asserts=${2:?}; shift ;;
	--only) only=${2:?}; shift ;;
	--seeds) seeds=${2:?}; shift ;;
	--nested) nested=1 ;;
	--rev) rev=${2:?}; shift ;;
	--kvm-phase) phase=${2:?}; shift ;;   # internal: the kvm runs of an earlier invocation's work dir
	--kvm-classify) classify=${2:?}; engine=kvm; shift ;;
	--json) json=${2:?}; shift ;;
	--jobs) jobs=${2:?}; shift ;;
	--keep) keep=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case $engine in hosted|kvm|both) ;; *) usage >&2; exit 2 ;; esac
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || { usage >&2; exit 2; }
case $asserts in on) settings=(on) ;; off) settings=(off) ;; both) settings=(on off) ;;
	*) usage >&2; exit 2 ;; esac
engines=()
[[ $engine != kvm ]] && engines+=(hosted)
if [[ $engine != hosted ]]; then
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		engines+=(kvm) nested=0
	elif (( nested )) || [[ -n $phase$classify ]]; then
		engines+=(kvm)
	else
		echo "kvm engine: skipped, /dev/kvm absent (--nested runs it in a VM)"
	fi
fi
(( ${#engines[@]} )) || exit 0
(( jobs >= 1 )) || jobs=1

log() { printf '%s\n' "$*" >&2; }
if [[ -z $phase$classify ]]; then
	work=$(mktemp -d /tmp/mut-XXXXXX)
	cleanup() { (( keep )) && echo "work directory: $work" || rm -rf "$work"; }
	trap cleanup EXIT
else
	work=$phase$classify
fi

# --- engines: one verdict line "COLUMN IDS killed/runs checkpoint=N" per mutant -------------------
kvm_workloads=(smoke share random pressure large)
IFS=, read -ra kvm_seeds <<<"$seeds"
# Classifies one vmm run from its status, output and JSON report (python3: jansson's JSON).
kvm_classify() {   # status report output
	python3 - "$@" <<'EOF'
import json, re, sys
status, report, output = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], errors='replace').read()
try:
    checks = json.load(open(report)).get('checks', [])
except Exception:
    checks = []
def ids(phases, skip_lk):
    seen = []
    for c in checks:
        if c.get('phase') not in phases: continue
        for v in c.get('violations', []):
            i = v.get('id', '?')
            if i not in seen and not (skip_lk and i == 'LK_QUIESCENT'): seen.append(i)
    return seen
ck = ids(('checkpoint',), False)
guest_ended = status in (3, 4)
after = ids(('exit', 'stopped'), guest_ended)   # stopped: the watchdog's check (findings)
abort = re.search(r'guest abort at (\S+?):\d+: (.*)', output)
if ck:
    col, who = 'checkpoint', ck
elif after and not guest_ended:
    col, who = 'checkpoint', after          # the check at the end of a run that finished
elif after:
    col, who = 'after-stop', after
elif status == 3 and abort and '/workloads/' in abort.group(1):
    col, who = 'model', [abort.group(1).rsplit('/', 1)[-1]]
elif status == 3 and abort:
    m = re.match(r'ASSERT (\S+) failed', abort.group(2))
    col, who = 'guest', [m.group(1) if m else 'panic']
elif status in (3, 4):
    col, who = 'crash', ['hang' if status == 4 else 'trap']
else:
    col, who = 'survived', []
print(col, ','.join(who) or '-')
EOF
}
order=(checkpoint after-stop guest crash model survived)
rank() { local i; for i in "${!order[@]}"; do [[ ${order[$i]} == "$1" ]] && { echo "$i"; return; }; done; echo 9; }

# The runs of one guest.elf, kept as OUT.WORKLOAD.SEED.{st,json,run} for kvm_verdict: in the
# nested VM nothing else runs (python would cost seconds a run under TCG).
kvm_runs() {   # vmm guest.elf out-prefix
	local vmm=$1 elf=$2 out=$3 w s st
	for w in "${kvm_workloads[@]}"; do
		for s in "${kvm_seeds[@]}"; do
			st=0
			"$vmm" -q --timeout 120 --check=checkpoints --report="$out.$w.$s.json" \
				"$elf" -- "workload=$w" "seed=$s" >"$out.$w.$s.run" 2>&1 || st=$?
			echo "$st" >"$out.$w.$s.st"
		done
	done
}

kvm_verdict() {   # out-prefix (also the per-run log) -> verdict line
	local out=$1 best=survived ids= runs=0 killed=0 ck=0 w s st col who
	for w in "${kvm_workloads[@]}"; do
		for s in "${kvm_seeds[@]}"; do
			if [[ -f $out.$w.$s.st ]]; then
				st=$(<"$out.$w.$s.st")
				read -r col who <<<"$(kvm_classify "$st" "$out.$w.$s.json" "$out.$w.$s.run")"
			else
				st=- col=crash who=norun   # the VM stopped before this run
			fi
			printf 'run %s seed=%s: %s %s (status %s)\n' "$w" "$s" "$col" "$who" "$st" >>"$out"
			runs=$((runs + 1))
			[[ $col != survived ]] && killed=$((killed + 1))
			[[ $col == checkpoint ]] && ck=$((ck + 1))
			if (( $(rank "$col") < $(rank "$best") )); then best=$col ids=$who
			elif [[ $col == "$best" && $who != - ]]; then ids=$(printf '%s,%s' "$ids" "$who" |
				tr , '\n' | awk 'NF && !seen[$0]++' | paste -sd, -)
			fi
			rm -f "$out.$w.$s.st" "$out.$w.$s.json" "$out.$w.$s.run"
		done
	done
	echo "verdict $best ${ids:--} runs=$runs killed=$killed checkpoint=$ck"
}

run_hosted() {   # build-dir out-log -> verdict line
	"$1/tests/mutate/mutate_driver" >"$2" 2>&1 || true
	grep '^verdict ' "$2" | tail -1
}

# "verdict COL IDS runs=R killed=K ... checkpoint=C ..." -> "COL<TAB>IDS<TAB>K/R<TAB>C"
summarize() {
	awk '{ col = $2; ids = $3; for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	       printf "%s\t%s\t%s/%s\t%s\n", col, ids, v["killed"], v["runs"], v["checkpoint"] }'
}


# --- the kill table and the scores -----------------------------------------------------------------
print_table() {
	python3 - "$work/list.tsv" "$work/results.tsv" "${json:-}" "${engines[*]}" "${settings[*]}" <<'EOF'
import json, sys
listing, results, json_path = sys.argv[1], sys.argv[2], sys.argv[3]
engines, settings = sys.argv[4].split(), sys.argv[5].split()
mutants = [l.rstrip('\n').split('\t') for l in open(listing)]
res = {}
for l in open(results):
    mid, e, a, col, ids, runs, ck = l.rstrip('\n').split('\t')
    res[(mid, e, a)] = dict(column=col, ids=ids, runs=runs, checkpoint_runs=int(ck))
def cell(r):
    if r is None: return '-'
    ids = r['ids'] if len(r['ids']) <= 30 else r['ids'][:27] + '...'
    return '%-10s %-30s %5s' % (r['column'], ids, r['runs'])
for e in engines:
    print('\nkill table, %s engine (runs killed/runs of the matrix; IDs of the best column)' % e)
    print('%-34s %-7s' % ('mutant', 'file') + ''.join('  %-48s' % ('asserts ' + a) for a in settings))
    for mid, f, eq, bug in mutants:
        row = '%-34s %-7s' % (mid, f.split('/')[-1][:-2])
        for a in settings:
            r = res.get((mid, e, a))
            c = cell(r)
            if eq != '-':
                c = ('EQUIVALENT, KILLED: ' if r and r['column'] != 'survived' else 'equivalent: ') + c
            row += '  %-48s' % c
        print(row)
    for a in settings:
        live = [m for m in mutants if m[2] == '-']
        rs = [res.get((m[0], e, a)) for m in live]
        rs = [r for r in rs if r is not None and r['column'] != 'nobuild']
        n = len(rs)
        killed = sum(r['column'] != 'survived' for r in rs)
        ck = sum(r['column'] == 'checkpoint' for r in rs)
        cols = {c: sum(r['column'] == c for r in rs) for c in
                ('checkpoint', 'after-stop', 'guest', 'crash', 'model', 'survived')}
        nob = sum(1 for m in live if (res.get((m[0], e, a)) or {}).get('column') == 'nobuild')
        print('score %s asserts %s: killed %d/%d (%.0f%%), by the checker at a checkpoint %d/%d (%.0f%%); %s%s'
              % (e, a, killed, n, 100.0 * killed / max(n, 1), ck, n, 100.0 * ck / max(n, 1),
                 ' '.join('%s=%d' % kv for kv in cols.items()),
                 '; %d did not build' % nob if nob else ''))
if json_path:
    out = {'mutants': [dict(id=m[0], file=m[1], bug=m[3], equivalent=None if m[2] == '-' else m[2],
                            results={'%s/%s' % (e, a): res.get((m[0], e, a))
                                     for e in engines for a in settings}) for m in mutants]}
    json.dump(out, open(json_path, 'w'), indent=1)
EOF
}

# --- the kvm matrix over every built guest.elf: here, or inside one VM (--nested) -----------------
kvm_setting() {   # setting: the runs of its baseline and of every built mutant
	local a=$1 id file eq bug i=0 total
	total=$(wc -l <"$work/list.tsv")
	kvm_runs "$work/vmm-$a" "$work/elf/baseline-$a.elf" "$work/baseline-kvm-$a.log"
	while IFS=$'\t' read -r id file eq bug; do
		i=$((i + 1))
		[[ -f $work/elf/$id-$a.elf ]] || continue
		kvm_runs "$work/vmm-$a" "$work/elf/$id-$a.elf" "$work/logs/$id-kvm-$a.log"
		log "[kvm $a $i/$total] $id: run"
	done <"$work/list.tsv"
}
kvm_phase() {   # the settings side by side (one vmm each)
	local a pids=()
	mkdir -p "$work/logs"
	for a in "${settings[@]}"; do kvm_setting "$a" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p"; done
}
kvm_results() {   # here, after kvm_phase: the verdicts into results-kvm-SETTING.tsv; false on a dirty baseline
	local a id file eq bug v ok=0
	for a in "${settings[@]}"; do
		v=$(kvm_verdict "$work/baseline-kvm-$a.log")
		if [[ $v != "verdict survived "* ]]; then
			log "mutate: the unmutated MM is not clean under the kvm matrix (asserts $a): $v"
			grep -v ' survived ' "$work/baseline-kvm-$a.log" | head -20 >&2
			ok=1
			continue
		fi
		while IFS=$'\t' read -r id file eq bug; do
			if [[ -f $work/elf/$id-$a.elf ]]; then
				v=$(kvm_verdict "$work/logs/$id-kvm-$a.log" | summarize)
			else
				v=$'nobuild\t-\t0/0\t0'
			fi
			printf '%s\t%s\t%s\t%s\n' "$id" kvm "$a" "$v" >>"$work/results-kvm-$a.tsv"
		done <"$work/list.tsv"
	done
	return $ok
}
if [[ -n $phase ]]; then
	kvm_phase
	exit 0
fi

# --kvm-classify: the verdicts of a kept work directory whose kvm runs were cut short (the VM's
# timeout, a kill): only the mutants with every run of every setting done are tabled.
if [[ -n $classify ]]; then
	cp "$work/list.tsv" "$work/list.all.tsv"
	while IFS=$'\t' read -r id rest; do
		done_all=1
		for a in "${settings[@]}"; do
			for w in "${kvm_workloads[@]}"; do
				for s in "${kvm_seeds[@]}"; do
					[[ -f $work/logs/$id-kvm-$a.log.$w.$s.st ]] || done_all=0
				done
			done
		done
		(( done_all )) && printf '%s\t%s\n' "$id" "$rest"
	done <"$work/list.all.tsv" >"$work/list.tsv"
	log "mutate: $(wc -l <"$work/list.tsv") of $(wc -l <"$work/list.all.tsv") mutants have every kvm run"
	rm -f "$work"/results-kvm-*.tsv
	kvm_results || exit 1
	cat "$work"/results-kvm-*.tsv >"$work/results.tsv"
	print_table
	exit 0
fi

# --- a snapshot of the sources as they are now (tracked and new files, no build folders) ---------
mkdir -p "$work/pristine"
if [[ -n $rev ]]; then
	git -C "$root" archive "$rev" | tar -C "$work/pristine" -xf -
	cp "$work/pristine/mutants/mutants.tsv" "$work/mutants.tsv"
else
	(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c '[ -f "{}" ] && printf "%s\0" "{}"' |
		tar --null -T - -cf -) | tar -C "$work/pristine" -xf -
	cp "$table" "$work/mutants.tsv"
fi

# --- one source copy and build folder per (assert setting, worker) -------------------------------
per=$(( jobs / ${#settings[@]} )); (( per >= 1 )) || per=1
has_kvm=0
[[ " ${engines[*]} " == *" kvm "* ]] && has_kvm=1
targets=(tests/mutate/mutant_apply)
[[ " ${engines[*]} " == *" hosted "* ]] && targets+=(tests/mutate/mutate_driver)
(( has_kvm )) && targets+=(vmm/vmm guest/guest.elf)
setup_one() {   # setting worker
	local a=$1 w=$2 opt=true
	[[ $a == off ]] && opt=false
	cp -a "$work/pristine" "$work/src-$a-$w"
	# -O1 without debug info: mutants build in about a second
	meson setup "$work/build-$a-$w" "$work/src-$a-$w" -Dguest_asserts=$opt -Dmm_bounds=true -Dbenchmarks=false \
		-Dfuzzers=false -Doptimization=1 -Ddebug=false >"$work/setup-$a-$w.log" 2>&1 &&
		ninja -C "$work/build-$a-$w" "${targets[@]}" >>"$work/setup-$a-$w.log" 2>&1
}
log "mutate: building ${#settings[@]} x $per copies in $work ..."
pids=()
for a in "${settings[@]}"; do
	for (( w = 0; w < per; w++ )); do setup_one "$a" "$w" & pids+=($!); done
done
for p in "${pids[@]}"; do
	wait "$p" || { log "mutate: the unmutated sources do not build:"; tail -30 "$work"/setup-*.log >&2; exit 1; }
done
apply=$work/build-${settings[0]}-0/tests/mutate/mutant_apply
if (( has_kvm )); then   # vmm is not mutated (only guest sources are): the unmutated one serves all
	mkdir -p "$work/elf"
	for a in "${settings[@]}"; do
		cp "$work/build-$a-0/vmm/vmm" "$work/vmm-$a"
		cp "$work/build-$a-0/guest/guest.elf" "$work/elf/baseline-$a.elf"
	done
fi

# --- the table still applies, and which mutants to run ---------------------------------------------
if ! "$apply" "$work/mutants.tsv" "$work/pristine" check; then
	log "mutate: stale mutants above: their original text is no longer in the sources; fix $table"
	exit 1
fi
"$apply" "$work/mutants.tsv" "$work/pristine" list >"$work/list.tsv"
if [[ -n $only ]]; then
	awk -F'\t' -v only=",$only," 'index(only, "," $1 ",")' "$work/list.tsv" >"$work/list.only"
	mv "$work/list.only" "$work/list.tsv"
	[[ -s $work/list.tsv ]] || { log "mutate: no mutant named $only"; exit 2; }
fi
total=$(wc -l <"$work/list.tsv")

# --- the baseline: the unmutated MM must come out clean in every run ------------------------------
for e in "${engines[@]}"; do
	[[ $e == kvm ]] && continue   # in the kvm phase, after the builds
	for a in "${settings[@]}"; do
		v=$(run_"$e" "$work/build-$a-0" "$work/baseline-$e-$a.log")
		if [[ $v != "verdict survived "* ]]; then
			log "mutate: the unmutated MM is not clean under the $e matrix (asserts $a): $v"
			grep -v ' survived ' "$work/baseline-$e-$a.log" | head -20 >&2
			keep=1
			exit 1
		fi
	done
done
log "mutate: baseline clean; $total mutants x ${#settings[@]} assert settings x ${#engines[@]} engines"

# --- the mutants ----------------------------------------------------------------------------------
mkdir -p "$work/logs"
worker() {   # setting worker
	local a=$1 w=$2 src=$work/src-$1-$2 b=$work/build-$1-$2 i=0 id file eq bug e v last=
	while IFS=$'\t' read -r id file eq bug; do
		i=$((i + 1))
		(( (i - 1) % per == w )) || continue
		# apply rewrites the whole file from the snapshot: restore only when moving to another file
		[[ -n $last && $last != "$file" ]] && cp "$work/pristine/$last" "$src/$last"
		last=$file
		"$apply" "$work/mutants.tsv" "$work/pristine" apply "$id" "$src"
		for e in "${engines[@]}"; do
			if ! ninja -C "$b" "${targets[@]}" >"$work/logs/$id-$a-build.log" 2>&1; then
				v=$'nobuild\t-\t0/0\t0'
				[[ $e == kvm ]] && continue   # no ELF: the kvm phase reports nobuild
			elif [[ $e == kvm ]]; then
				cp "$b/guest/guest.elf" "$work/elf/$id-$a.elf"
				continue
			else
				v=$(run_"$e" "$b" "$work/logs/$id-$e-$a.log" | summarize)
			fi
			printf '%s\t%s\t%s\t%s\n' "$id" "$e" "$a" "$v" >>"$work/results-$a-$w.tsv"
			log "[$a $i/$total] $id ($e): $(printf '%s' "$v" |
				awk -F'\t' '{ printf "%s %s, %s runs killed, %s at a checkpoint", $1, $2, $3, $4 }')"
		done
	done <"$work/list.tsv"
	[[ -z $last ]] || cp "$work/pristine/$last" "$src/$last"
}
pids=()
for a in "${settings[@]}"; do
	for (( w = 0; w < per; w++ )); do worker "$a" "$w" & pids+=($!); done
done
for p in "${pids[@]}"; do wait "$p"; done
if (( has_kvm )); then
	if (( nested )); then
		log "mutate: the kvm matrix (seeds $seeds) in a nested-KVM VM under QEMU TCG ..."
		"$root/scripts/nested-kvm.sh" --mem 3G --cpus "${#settings[@]}" -- "$root/scripts/mutate.sh" \
			--kvm-phase "$work" --engine kvm --asserts "$asserts" --seeds "$seeds" ||
			{ log "mutate: the nested VM failed"; keep=1; exit 1; }
	else
		kvm_phase
	fi
	kvm_results || { keep=1; exit 1; }
fi
cat "$work"/results-*.tsv >"$work/results.tsv"
print_table
