/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: workload=replay plays the smallest shipped trace (every one with --all), the vforks of spawn.trace, and one recorded here, clean (large RAM and RAM small enough to reclaim), deterministically, with its figures in the JSON report; an injected corruption is caught; without a trace it is a usage error. */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hatvm/exit_status.h"
#include "perf_probe.h"
#include "run_vmm.h"
#include "temp_dir.h"
#include "trace_list.h"

/* Large, and small enough that every shipped trace reclaims (4M does not boot the MM). */
#define MEM_LARGE "512M"
#define MEM_SMALL "5M"

static const char *vmm_path, *guest_path, *trace_dir;
static struct trace_list traces;

/* The `replay: ...` line of out (a copy), failing the test when there is none. */
static char *replay_line(const char *out)
{
	const char *line = strstr(out, "replay: events=");

	ck_assert_msg(line != NULL, "no replay: line in:\n%s", out);
	return strndup(line, strcspn(line, "\n"));
}

/* The `stats: ...` line of out (where it starts), failing the test when there is none. */
static const char *stats_line(const char *out)
{
	const char *line = strstr(out, "\nstats: ops=");

	ck_assert_msg(line != NULL, "no stats: line in:\n%s", out);
	return line + 1;
}

/* vmm --replay TRACE --mem MEM [--report REPORT] [EXTRA...] guest -- workload=replay replay_check=500 */
static struct vmm_result replay(const char *trace, const char *mem, const char *report,
				const char *extra, const char *extra_arg)
{
	char opt[TRACE_PATH_MAX + 16], rep[4096 + 16];
	const char *opts[10] = { opt, "--mem", mem, "--timeout", "1800" };
	unsigned n = 5;

	snprintf(opt, sizeof(opt), "--replay=%s", trace);
	if (report) {
		snprintf(rep, sizeof(rep), "--report=%s", report);
		opts[n++] = rep;
	}
	if (extra) {
		opts[n++] = extra;
		opts[n++] = extra_arg;
	}
	return run_guest(vmm_path, guest_path, opts, (const char *[]){ "workload=replay", "replay_check=500", NULL });
}

static json_int_t json_int_at(json_t *obj, const char *key, const char *sub)
{
	json_t *j = json_object_get(obj, key);

	if (sub)
		j = json_object_get(j, sub);
	ck_assert_msg(json_is_integer(j), "replay.%s%s%s is not an integer", key, sub ? "." : "",
		      sub ? sub : "");
	return json_integer_value(j);
}

/* The line's figure KEY=N. */
static long long line_figure(const char *line, const char *key)
{
	char needle[64];
	const char *at;

	snprintf(needle, sizeof(needle), " %s=", key);
	at = strstr(line, needle);
	ck_assert_msg(at != NULL, "no %s in %s", key, line);
	return strtoll(at + strlen(needle), NULL, 10);
}

/*
 * The JSON report agrees with the line and with the checks: every check
 * clean, one per engine checkpoint at least, the longest list's file named.
 */
static void check_report(const char *path, const char *line, bool small)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *rp, *checks, *c, *ll;
	size_t i;

	ck_assert_msg(doc != NULL, "%s: %s", path, jerr.text);
	rp = json_object_get(doc, "replay");
	checks = json_object_get(doc, "checks");
	ck_assert_msg(json_is_object(rp), "no \"replay\" in %s", path);
	ck_assert_int_eq(json_int_at(rp, "events", NULL), line_figure(line, "events"));
	ck_assert_int_eq(json_int_at(rp, "faults", "total"), line_figure(line, "faults"));
	ck_assert_int_eq(json_int_at(rp, "cow_copies", NULL), line_figure(line, "cow_copies"));
	ck_assert_int_eq(json_int_at(rp, "vforks", NULL), line_figure(line, "vforks"));
	ck_assert_int_eq(json_int_at(rp, "pages_shared", NULL), line_figure(line, "pages_shared"));
	ck_assert_int_eq(json_int_at(rp, "reclaimed", "total"), line_figure(line, "reclaimed"));
	ck_assert_int_eq(json_int_at(rp, "steals", NULL), line_figure(line, "steals"));
	ck_assert_int_eq(json_int_at(rp, "hments_peak", NULL), line_figure(line, "hments_peak"));
	ck_assert_int_eq(json_int_at(rp, "oom", NULL), 0);
	ll = json_object_get(rp, "longest_list");
	ck_assert_int_eq(json_int_at(rp, "longest_list", "mappings"), line_figure(line, "longest_list"));
	if (strcmp(json_string_value(json_object_get(ll, "kind")) ?: "", "file") == 0)
		ck_assert_msg(json_string_value(json_object_get(ll, "path")) != NULL, "no path for the longest list");
	if (small)
		ck_assert_msg(json_int_at(rp, "reclaimed", "total") + json_int_at(rp, "steals", NULL) > 0,
			      "--mem " MEM_SMALL " did not reclaim: %s", line);
	ck_assert_int_ge(json_array_size(checks), json_int_at(rp, "checkpoints", NULL));
	json_array_foreach(checks, i, c)
		ck_assert_msg(json_integer_value(json_object_get(c, "violations_total")) == 0,
			      "check %zu has violations", i);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 0);
	json_decref(doc);
}

/* TRACE at MEM, twice: clean, the same line, the report carrying it; returns the line (free it). */
static char *replays_clean(const char *trace, const char *mem)
{
	const char *report = temp_path("replay.json");
	struct vmm_result a = replay(trace, mem, report, NULL, NULL), b = replay(trace, mem, NULL, NULL, NULL);

	ck_assert_msg(a.status == VMM_EXIT_OK, "%s --mem %s: vmm exited %d\n%s\n%s", trace, mem,
		      a.status, a.out, a.err);
	char *la = replay_line(a.out), *lb = replay_line(b.out);
	ck_assert_str_eq(la, lb);   /* deterministic */
	ck_assert_int_eq(line_figure(stats_line(a.out), "hments_peak"), line_figure(la, "hments_peak"));
	ASSERT_HAS(la, " oom=0");
	ASSERT_HAS(la, " trace_errors=0 ");
	ASSERT_HAS(a.err, " 0 violations");
	check_report(report, la, strcmp(mem, MEM_SMALL) == 0);
	fprintf(stderr, "%s --mem %s:\n  %s\n", trace, mem, la);
	free(lb);
	vmm_result_free(&a);
	vmm_result_free(&b);
	return la;
}

START_TEST(shipped_trace_replays_clean)
{
	ck_assert_msg(traces.n > 0, "no shipped traces (*.trace) in %s", trace_dir);
	ck_assert_int_lt(_i, 2 * (int)traces.n);
	free(replays_clean(traces.path[_i / 2], _i % 2 ? MEM_SMALL : MEM_LARGE));
}
END_TEST

/* spawn.trace's three posix_spawns are vforks: each child's faults are ring-3 accesses in its parent's space. */
START_TEST(vfork_trace_replays_clean)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/spawn.trace", trace_dir);
	char *line = replays_clean(path, MEM_LARGE);
	ck_assert_int_eq(line_figure(line, "vforks"), 3);
	ck_assert_int_eq(line_figure(line, "processes"), 5);
	free(line);
}
END_TEST

/* The issue's own example, recorded here when perf can (as root, or with perf_event_paranoid -1). */
START_TEST(recorded_here_replays_clean)
{
	const char *trace = temp_path("pipeline.trace");
	char *why;

	if (!perf_can_record(vmm_path, temp_path("probe.trace"), &why)) {
		fprintf(stderr, "note: perf cannot record here; the record-then-replay case is not run:\n%s", why);
		free(why);
		return;
	}
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "-q", "-o", trace, "--", "sh",
							"-c", "ls /usr/bin | sort | head", NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "vmm record exited %d:\n%s", r.status, r.err);
	vmm_result_free(&r);
	free(replays_clean(trace, MEM_LARGE));
	free(replays_clean(trace, MEM_SMALL));
}
END_TEST

/* Corruptions planted during a replay are found where they were planted (status 1, not 5). */
START_TEST(injected_corruption_is_caught)
{
	static const char *const ids[] = { "RM_MISSING", "RM_SHARE", "PT_VALID_CNT" };
	char needle[64];

	ck_assert_msg(traces.n > 0, "no shipped traces in %s", trace_dir);
	struct vmm_result r = replay(traces.path[0], MEM_LARGE, NULL, "--inject", ids[_i]);
	snprintf(needle, sizeof(needle), "vmm: injected %s at 'replay:", ids[_i]);
	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "--inject %s: vmm exited %d\n%s", ids[_i],
		      r.status, r.err);
	ASSERT_HAS(r.err, needle);
	ck_assert_ptr_null(strstr(r.err, "was not detected"));
	vmm_result_free(&r);
}
END_TEST

/* The phase of REPORT's last check, after asserting it counts no violation. */
static char *last_phase_of_clean_report(const char *report)
{
	json_error_t jerr;
	json_t *doc = json_load_file(report, 0, &jerr), *checks, *last;
	char *phase;

	ck_assert_msg(doc != NULL, "%s: %s", report, jerr.text);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 0);
	checks = json_object_get(doc, "checks");
	ck_assert_msg(json_array_size(checks) > 0, "%s: no check (the MM was not set up yet?)", report);
	last = json_array_get(checks, json_array_size(checks) - 1);
	phase = strdup(json_string_value(json_object_get(last, "phase")));
	json_decref(doc);
	return phase;
}

/* No line of OUT starts "violation ". */
static void assert_no_violation_line(const char *out)
{
	ck_assert_msg(!strstr(out, "\nviolation ") && strncmp(out, "violation ", 10) != 0,
		      "a violation line:\n%s", out);
}

/*
 * The watchdog stops a replay where it stands, likely inside an MM
 * operation (locks held, counts half updated): the check after it reports
 * findings, never violations, and vmm exits 4 (0 should the replay
 * finish first, as on a fast machine). Its core, checked offline, says
 * the same: findings, status 0. The longest shipped trace, 10 s: past the
 * MM's set-up even on a busy machine, and well before the replay's end
 * where KVM emulates ring 0 (50 s).
 */
START_TEST(watchdog_stop_is_a_timeout_not_a_violation)
{
	char opt[TRACE_PATH_MAX + 16], rep[4096 + 16], dump[4096 + 16];
	char *report = strdup(temp_path("stopped.json")), *core = strdup(temp_path("stopped.core"));
	bool stopped;
	char *phase;

	snprintf(opt, sizeof(opt), "--replay=%s/make-j2.trace", trace_dir);
	snprintf(rep, sizeof(rep), "--report=%s", report);
	snprintf(dump, sizeof(dump), "--dump-core=%s", core);
	struct vmm_result r = run_guest(vmm_path, guest_path,
					(const char *[]){ opt, rep, dump, "--timeout", "10", NULL },
					(const char *[]){ "workload=replay", "replay_check=100", NULL });
	ck_assert_msg(r.status == VMM_EXIT_TIMEOUT || r.status == VMM_EXIT_OK,
		      "vmm exited %d\n%s", r.status, r.err);
	stopped = r.status == VMM_EXIT_TIMEOUT;
	assert_no_violation_line(r.err);
	vmm_result_free(&r);
	phase = last_phase_of_clean_report(report);
	ck_assert_str_eq(phase, stopped ? "stopped" : "exit");
	free(phase);

	r = run_vmm((const char *[]){ vmm_path, "check-core", rep, core, guest_path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "check-core: status %d:\n%s", r.status, r.err);
	assert_no_violation_line(r.err);
	assert_no_violation_line(r.out);
	vmm_result_free(&r);
	phase = last_phase_of_clean_report(report);
	ck_assert_str_eq(phase, stopped ? "stopped" : "offline");
	free(phase);
	free(core);
	free(report);
}
END_TEST

START_TEST(replay_without_a_trace_is_a_usage_error)
{
	struct vmm_result r = run_guest(vmm_path, guest_path, NULL, (const char *[]){ "workload=replay", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "workload=replay needs a trace");
	vmm_result_free(&r);
}
END_TEST

START_TEST(unreadable_trace_is_a_usage_error)
{
	struct vmm_result r = run_guest(vmm_path, guest_path,
					(const char *[]){ "--replay=/nonexistent/t.trace", NULL }, NULL);

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/nonexistent/t.trace");
	vmm_result_free(&r);
}
END_TEST

/* ALL: every shipped trace at both sizes, spawn.trace among them; else the quick matrix and the vfork trace. */
static Suite *replay_suite(bool all)
{
	Suite *s = suite_create("replay");
	TCase *t = tcase_create("replay");

	tcase_set_timeout(t, 3600);
	tcase_add_loop_test(t, shipped_trace_replays_clean, 0, traces.n ? 2 * (int)traces.n : 1);
	if (!all)
		tcase_add_test(t, vfork_trace_replays_clean);
	tcase_add_test(t, recorded_here_replays_clean);
	tcase_add_loop_test(t, injected_corruption_is_caught, 0, 3);
	tcase_add_test(t, watchdog_stop_is_a_timeout_not_a_violation);
	tcase_add_test(t, replay_without_a_trace_is_a_usage_error);
	tcase_add_test(t, unreadable_trace_is_a_usage_error);
	suite_add_tcase(s, t);
	return s;
}

/*
 * Keeps only the smallest trace: the kvm suite's quick matrix. Every
 * trace at every size is the slow one (--all; the kvm-slow suite), as
 * the guest's ring-0 code is emulated on some KVMs (kvm_pvm: minutes a
 * trace); the unit suite replays them all hosted, with the checker.
 */
static void keep_smallest(struct trace_list *list)
{
	unsigned best = 0;
	off_t best_size = -1;
	struct stat st;

	for (unsigned i = 0; i < list->n; i++)
		if (stat(list->path[i], &st) == 0 && (best_size < 0 || st.st_size < best_size)) {
			best = i;
			best_size = st.st_size;
		}
	if (list->n > 1) {
		memmove(list->path[0], list->path[best], sizeof(list->path[0]));
		list->n = 1;
	}
}

int main(int argc, char **argv)
{
	bool all = argc == 5 && strcmp(argv[4], "--all") == 0;

	if (argc != 4 && !all) {
		fprintf(stderr, "usage: %s VMM GUEST.ELF TRACE_DIR [--all]\n", argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	guest_path = argv[2];
	trace_dir = argv[3];
	skip_without_kvm();
	if (trace_list_find(&traces, trace_dir) != 0) {
		perror(trace_dir);
		return 99;
	}
	if (!all)
		keep_smallest(&traces);
	temp_dir_make("hatvm-kvm-replay");
	int status = run_suite(replay_suite(all));
	temp_dir_remove();
	return status;
}
