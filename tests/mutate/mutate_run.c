/* SPDX-License-Identifier: BSD-2-Clause */
/* One run of the mutation matrix: checkpoints, and the guest stopping (panic, crash, hang) caught and checked once more. */

/*
 * One run of the mutation matrix. The checker reads the MM at every
 * checkpoint; the first violation stops the run (as --stop-on-violation
 * would). A guest panic (ASSERT, MM_REQUIRE, panic) comes back through the
 * hosted platform's panic hook, a crash or hang through a signal; either
 * way one more check follows, "after the guest stopped".
 */
#include "mutate_run.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "checker.h"
#include "hat_model.h"
#include "hosted_check.h"
#include "hosted_platform.h"
#include "invariant_names.h"
#include "sanitizer.h"

/*
 * A run takes well under a second of CPU (the hash shape, checking
 * 36 864 hments after every operation, over one: 2 under ASan, some 12
 * under TSan). Past RUN_CPU_S of CPU time it spins (a drain or a lock
 * that never comes free): a hang, whatever the machine's load.
 * RUN_WALL_S backs it up. mutate.sh's builds have no sanitizer.
 */
#if defined(TEST_TSAN)
#define RUN_CPU_S  40
#define RUN_WALL_S 120u
#elif defined(TEST_ASAN)
#define RUN_CPU_S  12
#define RUN_WALL_S 60u
#else
#define RUN_CPU_S  4
#define RUN_WALL_S 60u
#endif

static const char *const column_names[COL_N] = {
	"checkpoint", "after-stop", "guest", "crash", "model", "survived",
};

static struct {
	const struct shape *sh;
	uint64_t seed;
	unsigned every;
	struct model m;
	struct run_result *out;
	jmp_buf stop;
	sigjmp_buf crash;
	volatile sig_atomic_t signal, in_after;
} R;

const char *column_name(enum column c)
{
	return column_names[c];
}

/*
 * The IDs one check reported, by the catalogue's names. After the guest
 * stopped in the middle of an operation its locks are still held, so
 * LK_QUIESCENT there is no finding (skip_lk).
 */
static unsigned seen_ids(const struct seen *s, char *buf, size_t len, bool skip_lk)
{
	unsigned n = 0;
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned id = 0; id < INV_COUNT; id++) {
		if (s->per_id[id] == 0 || (skip_lk && id == INV_LK_QUIESCENT))
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 n++ ? "," : "", invariant_name((enum invariant_id)id));
	}
	if (n == 0)
		snprintf(buf, len, "-");
	return n;
}

/* The first kept violation (not LK_QUIESCENT with skip_lk), for the log. */
static void first_violation(const struct seen *s, const char *when, bool skip_lk, char *buf,
			    size_t len)
{
	for (unsigned i = 0; i < s->kept; i++) {
		if (skip_lk && s->v[i].id == INV_LK_QUIESCENT)
			continue;
		snprintf(buf, len, "%s: %s: %s", when, invariant_name(s->v[i].id), s->v[i].detail);
		return;
	}
	snprintf(buf, len, "%s: %u violations", when, s->returned);
}

static void checkpoint(void *arg, const char *label)
{
	struct seen s;

	(void)arg;
	hmm_check(&s);
	R.out->checks++;
	if (s.returned == 0) {
		hat_assert_accounted();   /* as the guest's wl_checkpoint() does: no hment is in flight */
		return;
	}
	R.out->col = COL_CHECKPOINT;
	seen_ids(&s, R.out->ids, sizeof(R.out->ids), false);
	first_violation(&s, label, false, R.out->detail, sizeof(R.out->detail));
	longjmp(R.stop, 1);
}

/* A full HAT operation log: a checkpoint shows it to the host, as vmm's would. */
static void oplog_full(void)
{
	checkpoint(NULL, "oplog");
}

/*
 * Inside mm_hosted_expect_panic: boot and the shape; a violation jumps
 * back here. The checker follows the guest's operation log with its own
 * model of what should be mapped (MD_*) from the boot check on, as vmm
 * --check=checkpoints does.
 */
static void workload(void *arg)
{
	static struct hat_model *model;

	(void)arg;
	if (setjmp(R.stop) != 0)
		return;
	if (model == NULL && (model = hat_model_new()) == NULL)
		abort();
	checker_use_model(model);
	mm_hosted_oplog_hook = oplog_full;
	mm_hosted_boot(MD_RAM);
	checkpoint(NULL, "boot");
	R.m.checkpoint = checkpoint;
	R.m.every = R.every;
	shape_run(R.sh, &R.m, R.seed);
	snprintf(R.out->exercised, sizeof(R.out->exercised),
		 "steals=%" PRIu64 " splits=%" PRIu64 " promotions=%" PRIu64 " cached_ptp=%" PRIu64
		 " freed_ptp=%" PRIu64 " page_fails=%" PRIu64 " reserve_pages=%" PRIu64, hment_stats.steals,
		 hment_stats.splits, hment_stats_promotions(), segtab_stats.ptp_cached, segtab_stats.ptp_freed,
		 page_nfail(), page_nreserve());
	checkpoint(NULL, "end");
}

static void on_signal(int sig)
{
	if (R.in_after)
		_exit(3);   /* the check after the stop crashed or hung too: the parent says "crash" */
	R.signal = sig;
	siglongjmp(R.crash, 1);
}

static void catch_signals(void)
{
	static char altstack[1 << 16];
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM, SIGPROF };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* A signal's name without spaces, for the kill table. */
static const char *signal_name(int sig)
{
	static char buf[16];

	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	}
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

/* Arms (or disarms) the CPU-time and wall-clock limits of a run. */
static void limit_time(bool on)
{
	struct itimerval cpu = { .it_value = { .tv_sec = on ? RUN_CPU_S : 0 } };

	setitimer(ITIMER_PROF, &cpu, NULL);
	alarm(on ? RUN_WALL_S : 0);
}

/* "ASSERT <ID> failed: ..." names its ID ("API" for MM_REQUIRE); any other panic is "panic". */
static void panic_id(const char *msg, char *buf, size_t len)
{
	if (sscanf(msg, "ASSERT %63[A-Z0-9_] failed", buf) != 1 || len < 64)
		snprintf(buf, len, "panic");
}

/* The check after the guest stopped: the checker's IDs, if any, take the run. */
static void check_after_stop(void)
{
	struct seen s;
	char ids[sizeof(R.out->ids)], why[sizeof(R.out->detail)];

	R.in_after = 1;
	limit_time(true);
	hmm_check(&s);
	limit_time(false);
	R.out->checks++;
	if (seen_ids(&s, ids, sizeof(ids), true) == 0)
		return;
	snprintf(why, sizeof(why), "%s", R.out->detail);
	R.out->col = COL_AFTER;
	snprintf(R.out->ids, sizeof(R.out->ids), "%s", ids);
	first_violation(&s, "after the stop", true, R.out->detail, sizeof(R.out->detail));
	snprintf(R.out->detail + strlen(R.out->detail), sizeof(R.out->detail) - strlen(R.out->detail),
		 " [stopped by %.120s]", why);
}

static void model_verdict(void)
{
	if (R.m.nfindings == 0) {
		R.out->col = COL_SURVIVED;
		snprintf(R.out->ids, sizeof(R.out->ids), "-");
		snprintf(R.out->detail, sizeof(R.out->detail), "%u checks, nothing found",
			 R.out->checks);
		return;
	}
	R.out->col = COL_MODEL;
	snprintf(R.out->ids, sizeof(R.out->ids), "%s", R.m.finding_kind);
	snprintf(R.out->detail, sizeof(R.out->detail), "op%" PRIu64 ": %.250s", R.m.finding_op,
		 R.m.finding);
}

void run_one(const struct shape *sh, uint64_t seed, unsigned every, struct run_result *out)
{
	bool panicked;

	memset(&R, 0, sizeof(R));
	memset(out, 0, sizeof(*out));
	R.sh = sh;
	R.seed = seed;
	R.out = out;
	out->col = COL_SURVIVED;
	R.every = every;
	catch_signals();
	if (sigsetjmp(R.crash, 1) == 0) {
		limit_time(true);
		panicked = mm_hosted_expect_panic(workload, NULL);
		limit_time(false);
		if (panicked) {
			out->col = COL_GUEST;
			panic_id(mm_hosted_panic_msg, out->ids, sizeof(out->ids));
			snprintf(out->detail, sizeof(out->detail), "op%" PRIu64 ": %.250s", R.m.ops,
				 mm_hosted_panic_msg);
			check_after_stop();
		} else if (out->col != COL_CHECKPOINT) {
			model_verdict();
		}
	} else {
		bool hang = R.signal == SIGALRM || R.signal == SIGPROF;

		limit_time(false);
		out->col = COL_CRASH;
		snprintf(out->ids, sizeof(out->ids), "%s", hang ? "hang" : signal_name(R.signal));
		snprintf(out->detail, sizeof(out->detail), "op%" PRIu64 ": %s", R.m.ops,
			 hang ? "spinning: out of CPU time" : strsignal(R.signal));
		check_after_stop();
	}
	out->done = true;
}
