/* SPDX-License-Identifier: BSD-2-Clause */
/* workload=replay: the host's --replay trace streamed in by hypercall and played on the MM, every fault a real ring-3 access. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "hypercall.h"
#include "kernel.h"
#include "replay.h"
#include "stats.h"
#include "trap.h"
#include "user_mode.h"
#include "util.h"
#include "workload.h"

#define DEFAULT_CHECK_EVERY 1000u
#define MAX_RETRIES         4u    /* faults one access may take: the stub, the page, a COW, one spare */

static struct replay engine;

/* What the host reads at exit for its JSON report (hatvm/replay_stats.h): complete once magic is set. */
struct replay_result replay_result;

static struct trace_event events[HC_TRACE_MAX_EVENTS];

/* The access in progress, for the #PF handler. */
static struct {
	struct rproc *p;
	uint64_t va;
	unsigned faults;
	enum replay_rc rc;
} cur;

static unsigned fault_access(uint64_t error_code)
{
	if (error_code & PF_ERR_FETCH)
		return REPLAY_ACC_EXEC;
	return error_code & PF_ERR_WRITE ? REPLAY_ACC_WRITE : REPLAY_ACC_READ;
}

/*
 * The #PF handler while the replay runs: the doorbell ends an access; a
 * fault on the stub page maps it again (a steal took it); a fault on the
 * accessed page is the MM's to resolve, as a kernel's handler would.
 * Anything else ends the access as stray. Kernel faults are not ours.
 */
static bool replay_page_fault(uint64_t cr2, uint64_t error_code)
{
	if (!user_active() || !(error_code & PF_ERR_USER))
		return false;
	switch (user_fault_kind(cr2, error_code)) {
	case UF_DOORBELL:
		user_finish(USER_DONE);
	case UF_STUB:
		if (user_map_stub(hat_current()))
			return true;
		cur.rc = REPLAY_ENOMEM;
		user_finish(USER_REFUSED);
	case UF_OTHER:
		break;
	}
	if ((cr2 ^ cur.va) >> MM_PAGE_SHIFT || ++cur.faults > MAX_RETRIES)
		user_finish(USER_STRAY);
	cur.rc = replay_fault(&engine, cur.p, cr2, fault_access(error_code));
	if (cur.rc != REPLAY_OK)
		user_finish(USER_REFUSED);
	/* an instruction fetch is done once the page is mapped executable: its bytes are not run */
	if (error_code & PF_ERR_FETCH)
		user_finish(USER_DONE);
	return true;
}

static enum replay_rc access(void *ctx, struct replay *r, struct rproc *p, struct hat *h,
			     uint64_t va, unsigned acc)
{
	(void)ctx;
	(void)r;
	uint64_t pte = hat_getpte(h, va);

	/* a fetch that would not fault runs the page's bytes: touch it by a read instead */
	if ((acc & REPLAY_ACC_EXEC) && (pte & PTE_P) && (pte & PTE_U) && !(pte & PTE_NX))
		acc = REPLAY_ACC_READ;
	cur.p = p;
	cur.va = va;
	cur.faults = 0;
	cur.rc = REPLAY_OK;
	switch (user_access(h, va, acc)) {
	case USER_DONE:    return REPLAY_OK;
	case USER_REFUSED: return cur.rc != REPLAY_OK ? cur.rc : REPLAY_ENOMEM;
	default:           return REPLAY_EACCESS;
	}
}

static void checkpoint(void *ctx, const char *what)
{
	uint64_t t0 = x86_rdtsc();

	(void)ctx;
	wl_checkpoint("replay", what);
	replay_result.checkpoint_cycles += x86_rdtsc() - t0;
}

static void space_gone(void *ctx, struct hat *h)
{
	(void)ctx;
	if (hat_current() == h)
		hat_switch(&hat_kas);
}

/* One chunk from the host, checked: the count must fit what was asked. Returns the events, 0 at the end. */
static uint64_t fetch(struct replay_config *cfg)
{
	struct hc_trace t;

	hc_trace(events, HC_TRACE_MAX_EVENTS, &t);
	if (t.status == HC_TRACE_NONE)
		cmdline_usage("workload=replay needs a trace: run vmm --replay TRACE");
	if (t.status == HC_TRACE_END && t.count == 0)
		return 0;
	if (t.status != HC_TRACE_OK || t.count == 0 || t.count > HC_TRACE_MAX_EVENTS)
		panic("replay: the host answered the trace call with status %" PRIu64 " and %" PRIu64
		      " events (asked for at most %u)", t.status, t.count, HC_TRACE_MAX_EVENTS);
	cfg->files = t.files;
	return t.count;
}

/* The figures and the replay's time, for the host (read once the guest has stopped). */
static void publish_result(uint64_t cycles)
{
	replay_result.st = *replay_stats(&engine);
	replay_result.tsc_cycles = cycles;
	replay_result.tsc_khz = cpu_boot_info()->tsc_khz;
	replay_result.size = sizeof(replay_result);
	replay_result.version = REPLAY_RESULT_VERSION;
	replay_result.magic = REPLAY_RESULT_MAGIC;
}

static int replay_run(void)
{
	struct replay_config cfg = { .check_every = cmdline_get_u64("replay_check", DEFAULT_CHECK_EVERY) };
	struct replay_seam seam = { .access = access, .checkpoint = checkpoint, .space_gone = space_gone };
	char line[640];
	uint64_t n = fetch(&cfg);
	uint64_t started = x86_rdtsc();

	if (!user_mode_init(replay_page_fault) || !replay_init(&engine, &seam, &cfg))
		panic("replay: no memory to start");
	while (n != 0) {
		for (uint64_t i = 0; i < n; i++)
			replay_event(&engine, &events[i]);
		n = fetch(&cfg);
	}
	replay_finish(&engine);
	publish_result(x86_rdtsc() - started);
	replay_format(&engine, line, sizeof(line));
	kprintf("%s\n", line);
	/* the engine maps through the HAT, not the counting wrappers: its peak is the run's */
	stats_note_hments(replay_stats(&engine)->hments_peak);
	wl_finish("replay", "end");
	return replay_stats(&engine)->internal_errors == 0 && replay_stats(&engine)->oom == 0 ? 0 : 1;
}

const struct workload workload_replay = {
	.name = "replay",
	.summary = "play the trace of vmm --replay TRACE on the MM (replay_check=N)",
	.needs_mm = true,
	.run = replay_run,
};
