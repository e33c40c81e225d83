/* SPDX-License-Identifier: BSD-2-Clause */
/* Replay of the shipped traces: events per second and what a check costs beside the work it checks, hosted (native), or on KVM (the guest's side of a vmm --replay run). */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench_table.h"
#include "bench_util.h"
#include "hat_model.h"
#include "host_kvm.h"
#include "hosted_check.h"
#include "replay_hosted_run.h"
#include "replay_int.h"
#include "temp_dir.h"
#include "trace_list.h"

#define RAM         (256ull << 20)
#define CHECK_EVERY 1000u
#define RUNS        5
#define KVM_MEM     "512M"

extern char **environ;

/* CPU time (the replay's own clock: a loaded machine's waits count in neither) and items of the checks one hosted run made. */
static struct {
	double ms;
	double items;
	unsigned n, violations;
} checks;

static void timed_check(void)
{
	double t0 = bench_cpu_now();
	struct seen s;

	hmm_check(&s);
	checks.ms += (bench_cpu_now() - t0) * 1e3;
	checks.items += (double)check_stats_items(&s.stats);
	checks.n++;
	checks.violations += s.returned;
}

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	timed_check();
}

/*
 * Replays path once on a fresh hosted MM: with `checked`, the host model
 * attached and a check every CHECK_EVERY events; without, no check at
 * all. Returns the replay's CPU seconds (checks excluded), or NAN.
 */
static double replay_once(const char *path, bool checked, struct hat_model *model, uint64_t *events)
{
	struct replay_hosted_opts opts = { .ram = RAM, .check_every = checked ? CHECK_EVERY : 0,
					   .checkpoint = checked ? on_checkpoint : NULL,
					   .oplog_full = checked ? timed_check : NULL };
	struct replay_hosted_run run;
	char err[1024];
	int rc;

	checker_use_model(checked ? model : NULL);
	if (!replay_hosted_start(&run, path, &opts, err, sizeof(err))) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return NAN;
	}
	rc = replay_hosted_play(&run);
	*events = run.engine->st.events;
	replay_hosted_stop(&run);
	if (rc != 0)
		return NAN;
	return checked ? run.cpu_s - checks.ms / 1e3 : run.cpu_s;
}

/* The hosted rows of one trace: events/s unchecked, and a check's cost beside the events between two checks. */
static void bench_hosted(struct bench_table *tab, const char *path, struct hat_model *model)
{
	const char *name = trace_list_name(path);
	double plain[RUNS], per_check_ms, work_ms;
	uint64_t events = 0;
	struct bench_row *row;

	for (unsigned i = 0; i < RUNS; i++)
		plain[i] = replay_once(path, false, model, &events);
	checks = (typeof(checks)){ 0 };
	work_ms = replay_once(path, true, model, &events) * 1e3;
	if (isnan(plain[0]) || isnan(work_ms) || checks.n == 0 || events == 0) {
		bench_not_measured(tab, name, "the trace did not replay");
		return;
	}
	row = bench_add(tab, (double)events / bench_median(plain, RUNS) / 1e6, "M/s",
			"replay %s: events per second (no checks)", name);
	bench_set_note(row, "%" PRIu64 " events, hosted, native", events);
	per_check_ms = checks.ms / checks.n;
	row = bench_add(tab, per_check_ms, "ms", "replay %s: one check, CPU (model on)", name);
	bench_set_baseline(row, work_ms * CHECK_EVERY / (double)events, "replaying 1000 events");
	bench_set_ratio(row, per_check_ms / (work_ms * CHECK_EVERY / (double)events), "check/work");
	bench_set_note(row, "%u checks, %.1f M items/s, %u violations", checks.n,
		       checks.items / (checks.ms / 1e3) / 1e6, checks.violations);
}

/* What the KVM rows' figures are worth, for their notes: "emulated (kvm_amd nested in QEMU TCG)". */
static const char *kvm_label(void)
{
	static char label[64];

	snprintf(label, sizeof(label), "%s (%s)", bench_kvm_emulated() ? "emulated" : "KVM",
		 bench_kvm_module());
	return label;
}

/* vmm --replay PATH --report JSON GUEST -- replay_check=1000, output discarded; its exit status. */
static int run_vmm_replay(const char *vmm, const char *guest, const char *path, const char *json)
{
	char replay[TRACE_PATH_MAX + 16], report[4096 + 16];
	const char *argv[] = { vmm, "--quiet", "--mem", KVM_MEM, "--timeout", "1800", replay, report,
			       guest, "--", "replay_check=1000", NULL };
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;

	snprintf(replay, sizeof(replay), "--replay=%s", path);
	snprintf(report, sizeof(report), "--report=%s", json);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, vmm, &fa, NULL, (char *const *)argv, environ) == 0 &&
	    waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		status = WEXITSTATUS(status);
	else
		status = -1;
	posix_spawn_file_actions_destroy(&fa);
	return status;
}

struct checkpoint_sums {
	double ms, items;
	unsigned n;
};

/* bench_each_checkpoint()'s step: one more check's ms and items. */
static void sum_checkpoint(double ms, double items_per_s, void *arg)
{
	struct checkpoint_sums *s = arg;

	s->ms += ms;
	s->items += items_per_s * ms / 1e3;
	s->n++;
}

/* The KVM rows of one trace from its run's JSON report: the guest's events/s and a check beside 1000 events. */
static void kvm_rows(struct bench_table *tab, const char *name, json_t *doc)
{
	json_t *replay = json_object_get(doc, "replay"), *time = json_object_get(replay, "time");
	double events = json_number_value(json_object_get(replay, "events"));
	double ms = json_number_value(json_object_get(time, "ms"));
	double pause_ms = json_number_value(json_object_get(time, "checkpoint_ms"));
	struct checkpoint_sums c = { 0 };
	double work_ms;
	struct bench_row *row;

	bench_each_checkpoint(json_object_get(doc, "checks"), sum_checkpoint, &c);
	if (!json_is_object(time) || events <= 0 || ms <= pause_ms || c.n == 0) {
		bench_not_measured(tab, name, "no replay figures or checkpoints in the report");
		return;
	}
	work_ms = (ms - pause_ms) * CHECK_EVERY / events;
	row = bench_add(tab, events / ((ms - pause_ms) / 1e3) / 1e6, "M/s",
			"replay %s: events per second on KVM (guest)", name);
	bench_set_note(row, "%.0f events, ring-3 faults; %s", events, kvm_label());
	row = bench_add(tab, c.ms / c.n, "ms", "replay %s: one check on KVM (model on)", name);
	bench_set_baseline(row, work_ms, "replaying 1000 events");
	bench_set_ratio(row, c.ms / c.n / work_ms, "check/work");
	bench_set_note(row, "%u checks, %.1f M items/s; %s", c.n, c.items / (c.ms / 1e3) / 1e6, kvm_label());
}

static void bench_kvm(struct bench_table *tab, const char *path, const char *vmm, const char *guest)
{
	const char *name = trace_list_name(path), *json = temp_path("report.json");
	char figure[96];
	json_error_t jerr;
	json_t *doc;
	int status;

	snprintf(figure, sizeof(figure), "replay %s on KVM", name);
	if (!bench_kvm_usable()) {
		bench_not_measured(tab, figure, "/dev/kvm absent");
		return;
	}
	status = run_vmm_replay(vmm, guest, path, json);
	doc = status == 0 ? json_load_file(json, 0, &jerr) : NULL;
	if (doc == NULL) {
		fprintf(stderr, "bench_replay: %s: vmm exited %d%s%s\n", path, status,
			status == 0 ? ", report: " : "", status == 0 ? jerr.text : "");
		bench_not_measured(tab, figure, "vmm --replay failed");
		return;
	}
	kvm_rows(tab, name, doc);
	json_decref(doc);
	remove(json);
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	struct hat_model *model = hat_model_new();
	static struct trace_list traces;
	struct bench_table tab;

	if ((argc != 2 && argc != 4) || model == NULL) {
		fprintf(stderr, "usage: %s [--json FILE] TRACE_DIR [VMM GUEST.ELF]\n"
			"  hosted rows; with VMM and GUEST.ELF the KVM rows instead\n", argv[0]);
		return 2;
	}
	if (trace_list_find(&traces, argv[1]) != 0) {
		perror(argv[1]);
		return 2;
	}
	temp_dir_make("hatvm-bench-replay");
	bench_table_init(&tab, argc == 4 ? "replay_kvm" : "replay");
	for (unsigned i = 0; i < traces.n; i++) {
		if (argc == 4)
			bench_kvm(&tab, traces.path[i], argv[2], argv[3]);
		else
			bench_hosted(&tab, traces.path[i], model);
	}
	hat_model_free(model);
	temp_dir_remove();
	return bench_table_finish(&tab, json);
}
