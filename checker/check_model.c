/* SPDX-License-Identifier: BSD-2-Clause */
/* What should be mapped against what is (MD_*): the guest's HAT operation log drained into the host's model, compared during the table walk. */
#include "check_internal.h"
#include "oplog_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* a larger lane is not the MM's (it has 4096): MD_LOG; with HAT_MAX_CPUS lanes, 1 M records at most to merge */
#define MODEL_RING_MAX  (1u << 14)
#define MODEL_MAPS_PER_PAGE 64u      /* model size cap: RAM pages × this (sharing included) */

/*
 * The model attached to this process's checks and how far it has followed
 * the log. Out of step (first check, records dropped, a bad log), the next
 * check rebuilds it from the page tables and compares nothing.
 */
static struct {
	struct hat_model *model;
	uint64_t next_seq;       /* the first record not applied yet */
	uint64_t lost;           /* ol_lost when last in step */
	uint64_t lost_seen;      /* ol_lost at the last check: each drop is reported once */
	bool in_step;
} follow;

/*
 * MD_PRUNE: the user ranges of this check's drained unloads and failed
 * loads, each while no later record can have emptied a table there since:
 * one that makes or frees tables of the same space, or any pageunload or
 * steal (they clear leaves without the space's lock and never prune).
 * Like the rest of the model it takes the log's order for the order of
 * the effects. More spans than fit go unjudged.
 */
#define PRUNE_SPANS 64

static struct {
	struct prune_span {
		uint64_t seq, lo, hi;
		uint32_t space;
		bool failed_load;
	} span[PRUNE_SPANS];
	unsigned n;
} pruned;

/*
 * MD_MISSING of hat_dup: each hold of its locks logs the leaves it copied
 * (HOP_DUP). Judged once the drain has applied every record: the
 * source's mappings in the range that were made before the dup's record
 * and are still there were there all along (only the space's lock
 * holder maps, and the dup held it), so the dup copied at least as many.
 * Judging at the drain's end lets a steal that raced the copy land its
 * record first. More dups than fit go unjudged.
 */
#define DUP_CHECKS 64

static struct {
	struct hat_op op[DUP_CHECKS];
	uint64_t seq[DUP_CHECKS];
	unsigned n;
} dups;

/*
 * MD_EXTRA of a pageunload that left the 2 MiB mappings covering its
 * page. It logs its own mappings, and, when it took the lock of its
 * group's first page (whose count said there were 2 MiB mappings), a
 * second record (HAT_LARGE, same CPU). With no second record, a 2 MiB
 * mapping covering the page made before the first record and still in
 * the model at the drain's end was there when the pageunload looked
 * (its load counted it before taking its number), so it should be gone.
 * One removed meanwhile by its space's owner is gone from the model too.
 * More pageunloads than fit go unjudged.
 */
#define PAGEUNLOAD_CHECKS 64

static struct {
	struct hat_op op[PAGEUNLOAD_CHECKS];
	uint64_t seq[PAGEUNLOAD_CHECKS];
	unsigned n;
} pageunloads;

/*
 * CPUs racing. A pageunload or steal takes mappings of any space without
 * its lock, while that space's owner may be unloading or protecting a
 * range over them: no place in the log orders such a range operation
 * against it (the range operation looks at many leaves at many times).
 * Records (o_cpu) tell which CPU each came from. An unload or failed load
 * is not judged by MD_PRUNE, nor an operation's missing flush by
 * MD_FLUSH, when another CPU's pageunload or steal is in the same drain,
 * before or after it: that one may have emptied its table after it
 * looked, or taken the translation it is counted as changing before it
 * did. One CPU's records keep their order, and are judged in full.
 */
#define FLUSH_SUSPECTS 64

static struct {
	uint64_t unmap_cpus;              /* CPUs whose pageunload or steal this drain has applied */
	struct flush_suspect {
		uint64_t seq;
		struct hat_op op;
		uint64_t changed;
		const char *missed;
	} suspect[FLUSH_SUSPECTS];        /* MD_FLUSH findings a later such record may still explain */
	unsigned nsuspects;
} race;

/* Another CPU than cpu has taken mappings without their spaces' locks in this drain so far. */
static bool raced(unsigned cpu)
{
	return (race.unmap_cpus & ~(1ull << cpu)) != 0;
}

void checker_use_model(struct hat_model *m)
{
	follow.model = m;
	follow.in_step = false;
	follow.lost_seen = 0;
}

bool checker_model_following(void)
{
	return follow.model != NULL && follow.in_step;
}

uint64_t checker_model_next_seq(void)
{
	return follow.next_seq;
}

void checker_model_forget(void)
{
	follow.in_step = false;
}

/* Ends following: this check compares nothing, the next rebuilds. */
static void lose_step(struct checker *c)
{
	c->model_mode = MODEL_OFF;
	follow.in_step = false;
}

static bool model_managed(void *ctx, uint64_t pfn)
{
	return view_managed(ctx, pfn);
}

/* A record's fields against what the HAT can log; NULL when fine, else what is wrong. */
static const char *record_fault(const struct hat_op *op, uint64_t seq)
{
	uint64_t size = (op->o_attr & HAT_LARGE) ? 1ull << MM_LEVEL_SHIFT(2) : MM_PAGE_SIZE;

	if (op->o_seq != (uint32_t)seq)
		return "its number is out of sequence";
	if (op->o_kind < HOP_CREATE || op->o_kind > HOP_KIND_MAX || op->o_cpu >= HAT_MAX_CPUS ||
	    (op->o_loaded & ~(HOP_LOADED_HERE | HOP_LOADED_ELSEWHERE)) != 0)
		return "its kind is unknown, its CPU past the MM's, or its loaded flags have unknown bits";
	if (op->o_attr & ~(HAT_PROT_MASK | HAT_NOCACHE | HAT_WRITETHRU | HAT_LARGE | HAT_LOCK))
		return "its attributes have unknown bits";
	if (op->o_kind == HOP_LOAD && ((op->o_va & (size - 1)) || (op->o_pfn & ((size >> MM_PAGE_SHIFT) - 1)) ||
				       !x86_va_canonical(op->o_va) || (op->o_result != 0 && op->o_result != -1)))
		return "the mapping it logs is misaligned, not canonical or has an impossible result";
	if (op->o_kind == HOP_GETPFNUM &&
	    (!x86_va_canonical(op->o_va) || (op->o_result != 0 && op->o_result != -1) ||
	     (op->o_result == -1 && op->o_pfn != UINT32_MAX)))
		return "its query is not canonical or its answer is impossible";
	if (op->o_kind == HOP_MAPCNT && op->o_result < 0)
		return "it answers a negative mapping count";
	if (op->o_kind == HOP_FREE_LARGE && (op->o_result < 0 || op->o_pfn % MM_LARGE_PAGES))
		return "it frees a misaligned 2 MiB block or a negative number of pages";
	if (op->o_kind == HOP_PAGESYNC &&
	    (op->o_result < 0 || op->o_attr > 1 || op->o_len > (PG_ATTR_REF | PG_ATTR_MOD)))
		return "it clears a negative number of leaves, has flags pagesync does not take or returns bits it cannot";
	if ((op->o_kind == HOP_UNLOAD || op->o_kind == HOP_CHGPROT) &&
	    (op->o_len == 0 || ((op->o_va | op->o_len) & (MM_PAGE_SIZE - 1)) || op->o_va + op->o_len < op->o_va))
		return "its range is empty, misaligned or wraps";
	if (op->o_kind == HOP_UNLOAD && op->o_result < 0)
		return "it frees a negative number of table pages";
	if (op->o_kind == HOP_DUP &&
	    (op->o_len == 0 || ((op->o_va | op->o_len) & (MM_PAGE_SIZE - 1)) || op->o_va + op->o_len < op->o_va ||
	     op->o_result < 0))
		return "its range is empty, misaligned or wraps, or it copied a negative number of leaves";
	return NULL;
}

/* Drops the spans of space: a later record of it may have made or emptied tables there. */
static void prune_drop_space(uint32_t space)
{
	unsigned k = 0;

	for (unsigned i = 0; i < pruned.n; i++)
		if (pruned.span[i].space != space)
			pruned.span[k++] = pruned.span[i];
	pruned.n = k;
}

/* Record seq, op, in the light of MD_PRUNE; kas: the kernel's space id (its ranges are not judged). */
static void prune_note(const struct hat_op *op, uint64_t seq, uint64_t kas)
{
	bool failed_load = op->o_kind == HOP_LOAD && op->o_result != 0;
	uint64_t len = op->o_kind == HOP_UNLOAD ? op->o_len
		       : (op->o_attr & HAT_LARGE) ? 1ull << MM_LEVEL_SHIFT(2) : MM_PAGE_SIZE;

	switch (op->o_kind) {
	case HOP_PAGEUNLOAD:
	case HOP_STEAL:
		pruned.n = 0;
		return;
	case HOP_CREATE:
	case HOP_DESTROY:
	case HOP_LOAD:
	case HOP_UNLOAD:
		prune_drop_space(op->o_space);
		break;
	default:
		return;
	}
	if ((op->o_kind != HOP_UNLOAD && !failed_load) || op->o_space == kas || op->o_va >= USER_TOP ||
	    len > USER_TOP - op->o_va || pruned.n == PRUNE_SPANS || raced(op->o_cpu))
		return;
	pruned.span[pruned.n++] = (struct prune_span){ .seq = seq, .lo = op->o_va, .hi = op->o_va + len,
						       .space = op->o_space, .failed_load = failed_load };
}

void check_model_empty_table(struct checker *c, uint32_t space, uint64_t ptva, unsigned level, uint64_t pfn)
{
	uint64_t end = ptva + (1ull << MM_LEVEL_SHIFT(level + 1));

	if (c->model_mode != MODEL_COMPARE)
		return;
	for (unsigned i = 0; i < pruned.n; i++) {
		const struct prune_span *sp = &pruned.span[i];

		if (sp->space != space || sp->hi <= ptva || sp->lo >= end)
			continue;
		sink_violation(&c->sink, INV_MD_PRUNE, space, ptva, pfn,
			       "level-%u table pfn 0x%" PRIx64 " is empty inside [0x%" PRIx64 ", 0x%" PRIx64
			       ") of record %" PRIu64 " (%s), which frees the tables it empties or makes",
			       level, pfn, sp->lo, sp->hi, sp->seq, sp->failed_load ? "a failed load" : "an unload");
		return;
	}
}

static const char *kind_name(unsigned kind)
{
	static const char *const names[] = { "?", "create", "destroy", "load", "unload", "pageunload",
					     "chgprot", "steal", "getpfnum", "pagesync", "mapcnt",
					     "free_large", "dup" };

	return kind <= HOP_KIND_MAX ? names[kind] : "?";
}

/*
 * An unload or chgprot loaded elsewhere: its shootdowns cover at least a
 * page per translation it removed or changed (o_pfn, HOP_FLUSH_PAGES_ALL).
 */
static bool too_few_pages(const struct hat_op *op, uint64_t changed)
{
	return (op->o_kind == HOP_UNLOAD || op->o_kind == HOP_CHGPROT) &&
	       (op->o_loaded & HOP_LOADED_ELSEWHERE) && op->o_pfn < changed;
}

/*
 * MD_FLUSH: an operation on one space (load, unload, chgprot, steal) that
 * removed or changed translations of it while it was loaded on some CPU
 * made no TLB flush (no INVLPG, full flush or shootdown request), or left
 * out some of those CPUs: loaded on this one and no local flush, loaded
 * on others and no shootdown, or shootdowns of too few pages. An unload
 * that freed table pages is judged so even when it removed no
 * translation (paging-structure caches may still point at those pages),
 * and its shootdowns must flush everything, not some pages. A pagesync
 * that cleared A/D in leaves of loaded spaces (the count it logs: the
 * host cannot see the bits as they were) and flushed nothing.
 */
static void report_flush(struct checker *c, const struct hat_op *op, uint64_t seq, uint64_t changed,
			 const char *missed)
{
	int32_t freed = op->o_kind == HOP_UNLOAD ? op->o_result : 0;

	sink_violation(&c->sink, INV_MD_FLUSH, op->o_space, op->o_va, REPORT_NONE,
		       "operation %" PRIu64 " (%s of 0x%" PRIx64 " bytes) removed or changed %" PRIu64
		       " translations%s of a space loaded on a CPU and %s", seq, kind_name(op->o_kind),
		       op->o_len ? op->o_len : (uint64_t)MM_PAGE_SIZE, changed,
		       freed > 0 ? ", and freed table pages," : "", missed);
}

static void check_flush(struct checker *c, const struct hat_op *op, uint64_t seq, uint64_t changed)
{
	bool one_space = op->o_kind == HOP_LOAD || op->o_kind == HOP_UNLOAD ||
			 op->o_kind == HOP_CHGPROT || op->o_kind == HOP_STEAL;
	unsigned local = HOP_FLUSH_LOCAL(op->o_flushes), remote = HOP_FLUSH_REMOTE(op->o_flushes);
	int32_t freed = op->o_kind == HOP_UNLOAD ? op->o_result : 0;
	const char *missed = NULL;

	if (op->o_kind == HOP_PAGESYNC) {
		if (op->o_loaded && op->o_result > 0 && op->o_flushes == 0)
			sink_violation(&c->sink, INV_MD_FLUSH, REPORT_NONE, REPORT_NONE, op->o_pfn,
				       "operation %" PRIu64 " (pagesync of pfn 0x%x) cleared A/D in %d"
				       " leaves, some of a space loaded on a CPU, and flushed no TLB",
				       seq, op->o_pfn, op->o_result);
		return;
	}
	if (!one_space || !op->o_loaded || (changed == 0 && freed <= 0) || op->o_space == 0)
		return;
	if (op->o_flushes == 0)
		missed = "flushed no TLB";
	else if ((op->o_loaded & HOP_LOADED_ELSEWHERE) && remote == 0)
		missed = "sent the other CPUs it is loaded on no shootdown";
	else if ((op->o_loaded & HOP_LOADED_HERE) && local == 0)
		missed = "left the TLB of the CPU doing it, where it is loaded, unflushed";
	else if (too_few_pages(op, changed))
		missed = "asked the other CPUs it is loaded on to flush fewer pages than that";
	else if (freed > 0 && (op->o_loaded & HOP_LOADED_ELSEWHERE) && op->o_pfn != HOP_FLUSH_PAGES_ALL)
		missed = "asked the other CPUs it is loaded on to flush some pages, not everything";
	if (missed == NULL)
		return;
	if (freed <= 0 && raced(op->o_cpu))
		return;   /* the translations the model counts may have been another CPU's to take */
	if (freed <= 0 && race.nsuspects < FLUSH_SUSPECTS) {
		race.suspect[race.nsuspects++] = (struct flush_suspect){ .seq = seq, .op = *op,
									 .changed = changed, .missed = missed };
		return;
	}
	report_flush(c, op, seq, changed, missed);
}

/* A pageunload or steal of cpu's: the MD_FLUSH suspects of other CPUs it may explain go. */
static void race_note_unmap(unsigned cpu)
{
	unsigned k = 0;

	race.unmap_cpus |= 1ull << cpu;
	for (unsigned i = 0; i < race.nsuspects; i++)
		if (race.suspect[i].op.o_cpu == cpu)
			race.suspect[k++] = race.suspect[i];
	race.nsuspects = k;
}

/* The drain's end: the MD_FLUSH suspects no other CPU's pageunload or steal explains. */
static void race_judge(struct checker *c)
{
	for (unsigned i = 0; i < race.nsuspects; i++) {
		const struct flush_suspect *f = &race.suspect[i];

		report_flush(c, &f->op, f->seq, f->changed, f->missed);
	}
	race.nsuspects = 0;
	race.unmap_cpus = 0;
}

/*
 * MD_RESULT: hat_getmapcnt's logged answer for a managed page against the
 * mappings the model holds of it (at that point of the log).
 */
static void check_mapcnt(struct checker *c, const struct hat_op *op, uint64_t seq)
{
	uint64_t want;

	if (op->o_kind != HOP_MAPCNT || !view_managed(&c->view, op->o_pfn))
		return;
	want = hat_model_page_maps(follow.model, op->o_pfn);
	if (want != (uint64_t)op->o_result)
		sink_violation(&c->sink, INV_MD_RESULT, REPORT_NONE, REPORT_NONE, op->o_pfn,
			       "operation %" PRIu64 ": getmapcnt of pfn 0x%x answered %d; the model holds %" PRIu64
			       " mappings of it (4 KiB, and 2 MiB covering it)", seq, op->o_pfn, op->o_result, want);
}

/*
 * PG_INUSE: page_free_large gives the allocator back its whole block (its
 * record counts every CPU's frees meanwhile, so never fewer than that).
 */
static void check_free_large(struct checker *c, const struct hat_op *op, uint64_t seq)
{
	if (op->o_kind == HOP_FREE_LARGE && op->o_result < (int32_t)MM_LARGE_PAGES)
		sink_violation(&c->sink, INV_PG_INUSE, REPORT_NONE, REPORT_NONE, op->o_pfn,
			       "operation %" PRIu64 ": page_free_large of the block at pfn 0x%x gave the"
			       " allocator back %d pages, not its %u", seq, op->o_pfn, op->o_result,
			       MM_LARGE_PAGES);
}

/*
 * MD_RESULT: hat_getpfnum's logged answer for a user VA against the frame
 * the model maps there (at that point of the log).
 */
static void check_result(struct checker *c, const struct hat_op *op, uint64_t seq)
{
	uint64_t want, got;

	check_mapcnt(c, op, seq);
	if (op->o_kind != HOP_GETPFNUM || op->o_space == 0 || op->o_va >= USER_TOP)
		return;
	want = hat_model_pfn_at(follow.model, op->o_space, op->o_va);
	got = op->o_result != 0 ? MODEL_PFN_NONE : op->o_pfn;
	if (want == got)
		return;
	sink_violation(&c->sink, INV_MD_RESULT, op->o_space, op->o_va, got == MODEL_PFN_NONE ? REPORT_NONE : got,
		       "operation %" PRIu64 ": getpfnum answered %s0x%" PRIx64 "; the model maps %s0x%" PRIx64,
		       seq, got == MODEL_PFN_NONE ? "nothing " : "pfn ", got == MODEL_PFN_NONE ? 0 : got,
		       want == MODEL_PFN_NONE ? "nothing " : "pfn ", want == MODEL_PFN_NONE ? 0 : want);
}

/*
 * MD_AD, pagesync's answer (o_len: the PG_ATTR_* it returned): at least
 * the A/D bits its page's leaves held at the last check (`had`, which
 * only a pagesync that clears them takes away), and REF or MOD when it
 * cleared A/D in some leaf.
 */
static void check_sync(struct checker *c, const struct hat_op *op, uint64_t seq, unsigned had)
{
	unsigned got = (unsigned)op->o_len;

	if (op->o_kind != HOP_PAGESYNC)
		return;
	if ((had & ~got) != 0)
		sink_violation(&c->sink, INV_MD_AD, REPORT_NONE, REPORT_NONE, op->o_pfn,
			       "operation %" PRIu64 ": pagesync of pfn 0x%x returned 0x%x; its leaves held"
			       " 0x%x (REF 1, MOD 2) at the last check", seq, op->o_pfn, got, had);
	else if (op->o_result > 0 && got == 0)
		sink_violation(&c->sink, INV_MD_AD, REPORT_NONE, REPORT_NONE, op->o_pfn,
			       "operation %" PRIu64 ": pagesync of pfn 0x%x cleared A/D in %d leaves and"
			       " returned neither REF nor MOD", seq, op->o_pfn, op->o_result);
}

/* A pageunload of a page inside a 2 MiB group to judge, or (HAT_LARGE) its second record: judged no more. */
static void note_pageunload(const struct hat_op *op, uint64_t seq)
{
	if (op->o_kind != HOP_PAGEUNLOAD || op->o_pfn % MM_LARGE_PAGES == 0)
		return;
	if (op->o_attr & HAT_LARGE) {
		for (unsigned i = pageunloads.n; i-- > 0;)
			if (pageunloads.op[i].o_pfn == op->o_pfn && pageunloads.op[i].o_cpu == op->o_cpu) {
				pageunloads.op[i] = pageunloads.op[--pageunloads.n];
				pageunloads.seq[i] = pageunloads.seq[pageunloads.n];
				return;
			}
		return;
	}
	if (pageunloads.n == PAGEUNLOAD_CHECKS)
		return;
	pageunloads.op[pageunloads.n] = *op;
	pageunloads.seq[pageunloads.n++] = seq;
}

/* The noted pageunloads with no second record against the 2 MiB mappings older than them now; false when the check must stop. */
static bool judge_pageunloads(struct checker *c)
{
	for (unsigned i = 0; i < pageunloads.n; i++) {
		const struct hat_op *op = &pageunloads.op[i];
		uint64_t left = hat_model_older_large(follow.model, op->o_pfn, op->o_seq);

		if (check_work(c, hat_model_cost(follow.model)))
			return false;
		if (left > 0)
			sink_violation(&c->sink, INV_MD_EXTRA, REPORT_NONE, REPORT_NONE, op->o_pfn,
				       "operation %" PRIu64 " (pageunload of pfn 0x%x) took none of the 2 MiB"
				       " mappings covering it; %" PRIu64 " made before it are still there",
				       pageunloads.seq[i], op->o_pfn, left);
	}
	return true;
}

static void note_dup(const struct hat_op *op, uint64_t seq)
{
	if (op->o_kind != HOP_DUP || dups.n == DUP_CHECKS)
		return;
	dups.op[dups.n] = *op;
	dups.seq[dups.n++] = seq;
}

/* The noted dups against the source's mappings now; false when the check must stop. */
static bool judge_dups(struct checker *c)
{
	for (unsigned i = 0; i < dups.n; i++) {
		const struct hat_op *op = &dups.op[i];
		uint64_t had = hat_model_older_maps(follow.model, op->o_pfn, op->o_va, op->o_len, op->o_seq);

		if (check_work(c, hat_model_cost(follow.model)))
			return false;
		if (had > (uint64_t)op->o_result)
			sink_violation(&c->sink, INV_MD_MISSING, op->o_space, op->o_va, REPORT_NONE,
				       "operation %" PRIu64 " (hat_dup of 0x%" PRIx64 " bytes from space %u)"
				       " copied %d leaves; that space still maps %" PRIu64 " there, all made"
				       " before the dup", dups.seq[i], op->o_len, op->o_pfn, op->o_result, had);
	}
	return true;
}

/* Applies one record (seq, at va); false (reported) when it is bad or the check's time is up. */
static bool apply_record(struct checker *c, const struct hat_op *rec, uint64_t seq, uint64_t va)
{
	uint64_t max_maps = c->view.ram_pages * MODEL_MAPS_PER_PAGE, changed = 0;
	const char *fault = record_fault(rec, seq);
	struct hat_op op = *rec;
	unsigned had = 0;

	if (check_work(c, 1))
		return false;
	if (fault == NULL && op.o_kind == HOP_PAGESYNC)
		had = hat_model_frame_ad(follow.model, op.o_pfn);
	if (fault == NULL && !hat_model_apply(follow.model, &op, model_managed, &c->view, max_maps, &changed))
		fault = "it asks for more mappings than RAM can hold (or the host ran out of memory)";
	if (fault != NULL) {
		sink_violation(&c->sink, INV_MD_LOG, REPORT_NONE, va, REPORT_NONE,
			       "HAT operation log record %" PRIu64 ": %s", seq, fault);
		return false;
	}
	if (op.o_kind == HOP_PAGEUNLOAD || op.o_kind == HOP_STEAL)
		race_note_unmap(op.o_cpu);
	prune_note(&op, seq, c->view.have_kas ? c->view.hats[0].h.h_id : UINT64_MAX);
	check_result(c, &op, seq);
	check_free_large(c, &op, seq);
	check_sync(c, &op, seq, had);
	check_flush(c, &op, seq, changed);
	note_dup(&op, seq);
	note_pageunload(&op, seq);
	return !check_work(c, hat_model_cost(follow.model));
}

/* Applies records follow.next_seq .. ol_next - 1, merged from the log's lanes; false (reported) when one is bad. */
static bool apply_records(struct checker *c, const struct hat_oplog *log)
{
	struct oplog_records r;
	uint64_t at;
	const char *fault = oplog_read(&c->view.rd, log, follow.next_seq, &r, &at);
	bool ok = fault == NULL;

	if (fault != NULL && r.missing != 0)
		sink_violation(&c->sink, INV_MD_LOG, REPORT_NONE, at, REPORT_NONE,
			       "the HAT operation log %s: record %" PRIu64 " of %" PRIu64 " .. %" PRIu64,
			       fault, r.missing, follow.next_seq, log->ol_next - 1);
	else if (fault != NULL)
		sink_violation(&c->sink, INV_MD_LOG, REPORT_NONE, at, REPORT_NONE,
			       "the HAT operation log %s (records %" PRIu64 " .. %" PRIu64 " to show)",
			       fault, follow.next_seq, log->ol_next - 1);
	for (uint64_t k = 0; ok && k < r.n; k++)
		ok = apply_record(c, &r.op[k], r.first + k, r.va[k]);
	oplog_records_free(&r);
	if (!ok)
		return false;
	race_judge(c);
	return judge_dups(c) && judge_pageunloads(c);
}

/* Reads the log's counters; false (reported) when they cannot be the MM's. */
static bool read_log(struct checker *c, struct hat_oplog *log)
{
	const char *fault = NULL;

	if (!reader_read_va(&c->view.rd, c->view.sym.hat_oplog, log, sizeof(*log)))
		fault = "cannot be read";
	else if (log->ol_size == 0 || log->ol_size > MODEL_RING_MAX)
		fault = "has a ring size of 0 or past the MM's largest";
	else if (log->ol_nlanes == 0 || log->ol_nlanes > HAT_MAX_CPUS)
		fault = "has no lanes, or more than the MM has CPUs";
	else if (log->ol_next == 0 || log->ol_drained > log->ol_next)
		fault = "has counters out of order (drained past next)";
	else if (follow.in_step && follow.next_seq > log->ol_next)
		fault = "went backwards: fewer records than the host has already seen";
	if (fault == NULL)
		return true;
	sink_violation(&c->sink, INV_MD_LOG, REPORT_NONE, c->view.sym.hat_oplog, REPORT_NONE,
		       "the HAT operation log %s (size %u, next %" PRIu64 ", drained %" PRIu64 ")",
		       fault, log->ol_size, log->ol_next, log->ol_drained);
	return false;
}

/*
 * MD_LOG: a dropped record (ol_lost grew). The guest makes room before
 * every operation, draining the ring at a checkpoint whether or not the
 * host checks there, so a sound MM drops none; the model then starts
 * again from the tables, and what the lost records asked goes unjudged.
 */
static void report_dropped(struct checker *c, const struct hat_oplog *log)
{
	if (log->ol_lost > follow.lost_seen)
		sink_violation(&c->sink, INV_MD_LOG, REPORT_NONE, c->view.sym.hat_oplog, REPORT_NONE,
			       "the HAT operation log dropped %" PRIu64 " records since the last check (ol_lost %"
			       PRIu64 "): an operation appended more than hat_oplog_make_room left room for",
			       log->ol_lost - follow.lost_seen, log->ol_lost);
	follow.lost_seen = log->ol_lost;
}

void check_model_begin(struct checker *c)
{
	struct hat_oplog log;

	c->model_mode = MODEL_OFF;
	if (follow.model == NULL || c->view.sym.hat_oplog == 0)
		return;
	if (!read_log(c, &log)) {
		lose_step(c);
		return;
	}
	report_dropped(c, &log);
	c->model_next = log.ol_next;
	c->model_lost = log.ol_lost;
	if (!follow.in_step || log.ol_lost != follow.lost || follow.next_seq < log.ol_drained) {
		/* out of step: what the tables map now is the new start */
		hat_model_clear(follow.model);
		c->model_mode = MODEL_REBUILD;
		return;
	}
	pruned.n = 0;
	dups.n = 0;
	pageunloads.n = 0;
	race.nsuspects = 0;
	race.unmap_cpus = 0;
	if (!apply_records(c, &log)) {
		lose_step(c);
		return;
	}
	follow.next_seq = log.ol_next;
	hat_model_round(follow.model);
	c->model_mode = MODEL_COMPARE;
}

/*
 * MD_AD: a managed page's leaf keeps the A/D bits it had at the last check
 * unless a logged pagesync cleared them; a HAT that moves them into the
 * page's p_attr keeps them too. Then the leaf's bits are the new mark
 * (kept as they were after a violation, so it is not forgotten).
 */
static void compare_ad(struct checker *c, struct model_map *map, uint64_t va, uint64_t pte, uint64_t pfn)
{
	unsigned now = hat_model_ad_of_pte(pte), have = now;

	if (!view_managed(&c->view, pfn) || c->view.pages == NULL)
		return;
	have |= c->view.pages[pfn].p_attr;
	if ((map->ad & ~have) == 0) {
		map->ad = (uint8_t)now;
		return;
	}
	sink_violation(&c->sink, INV_MD_AD, map->space, va, pfn,
		       "the leaf held A/D 0x%x (REF 1, MOD 2) at the last check and no pagesync cleared"
		       " them; leaf and page now hold 0x%x", map->ad, have);
}

/* The leaf (pte at level, mapping pfn) against the model's mapping at space:va. */
static void compare_leaf(struct checker *c, uint32_t space, uint64_t va, uint64_t pte, unsigned level,
			 uint64_t pfn)
{
	struct model_map *map = hat_model_find(follow.model, space, va);
	uint64_t want;

	if (map == NULL) {
		sink_violation(&c->sink, INV_MD_EXTRA, space, va, pfn,
			       "a level-%u leaf maps pfn 0x%" PRIx64 " (0x%" PRIx64
			       "); no HAT operation asked for it", level, pfn, pte);
		return;
	}
	if (((map->attr & HAT_LARGE) != 0) != (level == 2) || map->pfn != pfn) {
		sink_violation(&c->sink, INV_MD_MISSING, space, va, map->pfn,
			       "asked for a %s mapping of pfn 0x%x; a level-%u leaf of pfn 0x%" PRIx64
			       " is there", (map->attr & HAT_LARGE) ? "2 MiB" : "4 KiB", map->pfn, level, pfn);
		return;
	}
	compare_ad(c, map, va, pte, pfn);
	want = hat_model_pte_bits(map->attr);
	if ((pte & MODEL_PTE_MASK) != want)
		sink_violation(&c->sink, INV_MD_ATTR, space, va, pfn,
			       "asked for attributes 0x%x (leaf bits 0x%" PRIx64 "); the leaf has 0x%" PRIx64,
			       map->attr, want, (uint64_t)(pte & MODEL_PTE_MASK));
}

void check_model_leaf(struct checker *c, uint32_t space, uint64_t va, uint64_t pte, unsigned level)
{
	uint64_t size_mask = (1ull << MM_LEVEL_SHIFT(level)) - 1;
	uint64_t pfn = (pte & c->frame_mask & ~size_mask) >> MM_PAGE_SHIFT;

	if (c->model_mode == MODEL_COMPARE) {
		compare_leaf(c, space, va, pte, level, pfn);
	} else if (c->model_mode == MODEL_REBUILD) {
		struct model_map map = {
			.va = va, .space = space, .pfn = (uint32_t)pfn,
			.attr = (uint16_t)hat_model_attr_of_pte(pte, level),
			.ad = (uint8_t)hat_model_ad_of_pte(pte),
		};

		if (!hat_model_add(follow.model, &map))
			lose_step(c);
	}
}

/* The ids of the spaces the walk covered (on hat_list), sorted: asked-for mappings elsewhere are not judged. */
struct walked {
	struct checker *c;
	uint32_t *ids;
	size_t n;
};

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void report_unseen(void *ctx, const struct model_map *map)
{
	struct walked *w = ctx;

	if (w->c->sink.full || !bsearch(&map->space, w->ids, w->n, sizeof(*w->ids), by_id))
		return;
	sink_violation(&w->c->sink, INV_MD_MISSING, map->space, map->va, map->pfn,
		       "asked for a %s mapping of pfn 0x%x (attributes 0x%x); nothing maps it",
		       (map->attr & HAT_LARGE) ? "2 MiB" : "4 KiB", map->pfn, map->attr);
}

/* MD_MISSING for every asked-for mapping of a walked space that the walk did not meet. */
static void report_missing(struct checker *c)
{
	struct walked w = { .c = c, .ids = malloc((c->view.nhats + 1) * sizeof(uint32_t)) };

	if (w.ids == NULL) {
		fprintf(stderr, "vmm: checker: out of host memory for the mapping model's last pass\n");
		return;
	}
	for (size_t i = 0; i < c->view.nhats; i++)
		w.ids[w.n++] = c->view.hats[i].h.h_id;
	qsort(w.ids, w.n, sizeof(*w.ids), by_id);
	check_work(c, hat_model_count(follow.model));
	hat_model_each_unseen(follow.model, report_unseen, &w);
	free(w.ids);
}

void check_model_end(struct checker *c)
{
	if (c->model_mode == MODEL_REBUILD) {
		follow.in_step = !c->stats.stopped;
		follow.next_seq = c->model_next;
		follow.lost = c->model_lost;
	} else if (c->model_mode == MODEL_COMPARE && !c->stats.stopped &&
		   hat_model_seen(follow.model) < hat_model_count(follow.model)) {
		report_missing(c);
	}
}
