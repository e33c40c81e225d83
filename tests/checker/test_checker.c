/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the checker on synthetic images and on the real MM run hosted — healthy states, one injection per invariant, hostile memory, symbols. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elf_builder.h"
#include "hat_model.h"
#include "hatvm/layout.h"
#include "hosted_mm.h"
#include "image.h"
#include "inject.h"
#include "invariant_names.h"
#include "run_check.h"
#include "run_vmm.h"

#define IMG_RAM (64ull << 20)

static const char *guest_elf_path;

/* ---- images ---------------------------------------------------------------- */

/* Counts of what rich_image() builds. */
#define RICH_SPACES   4u      /* hat_kas and three more */
#define RICH_MAPPINGS 183u    /* tracked leaves: 97 + 29 + 57 */
#define RICH_LONG     4u      /* pages whose lists are long enough for the hash */

/*
 * Three address spaces with private (embedded) pages, pages shared three
 * and four ways (lists), RICH_LONG pages mapped HMENT_SHORT_LIST + 2 more
 * times in one space (lists the hash holds), a page mapped twice in one space, a 2 MiB page
 * in two spaces, holes unloaded out of the middle of lists, an untracked
 * (unmanaged) frame, reserve hments and cached table pages.
 */
static struct image *rich_image(bool override)
{
	struct image *img = img_new(IMG_RAM, override);
	uint64_t a = img_hat_create(img), b = img_hat_create(img), c = img_hat_create(img);
	uint64_t solo = img_alloc_user(img, 64), shared = img_alloc_user(img, 32);
	uint64_t big = img_alloc_large(img);

	for (unsigned i = 0; i < 64; i++)
		img_map(img, a, 0x400000 + i * MM_PAGE_SIZE, solo + i, false);
	for (unsigned i = 0; i < 32; i++) {
		img_map(img, a, 0x10000000 + i * MM_PAGE_SIZE, shared + i, false);
		img_map(img, b, 0x20000000 + i * MM_PAGE_SIZE, shared + i, false);
		if (i % 2 == 0)
			img_map(img, c, 0x7f0000000000ull + i * MM_PAGE_SIZE, shared + i, false);
		if (i < 8)
			img_map(img, b, 0x30000000 + i * MM_PAGE_SIZE, shared + i, false);
		for (unsigned k = 0; i < RICH_LONG && k < HMENT_SHORT_LIST + 2; k++)
			img_map(img, c, 0x7e0000000000ull + k * MM_LARGE_SIZE + i * MM_PAGE_SIZE, shared + i, false);
	}
	img_map(img, a, 0x40000000, big, true);
	img_map(img, c, 0x600000000ull, big, true);
	for (unsigned i = 0; i < 32; i += 3)
		img_unmap(img, b, 0x20000000 + i * MM_PAGE_SIZE);
	img_map(img, a, 0x50000000, 0x10, false);
	img_reserve_fill(img, 10);
	img_cache_add(img, 3);
	return img;
}

/* The hosted MM after a seeded workload, with table pages on the cache. */
static void hosted_state(uint64_t seed, struct check_mem *mem, struct mm_symbols *sym)
{
	hmm_boot(IMG_RAM);
	hmm_workload(seed, 5, 3000);
	hmm_churn_tables();
	hmm_view(mem, sym);
}

static void expect_clean(const struct check_mem *mem, const struct mm_symbols *sym, const char *what)
{
	struct seen s;

	run_check(mem, sym, &s);
	if (s.returned != 0)
		seen_dump(&s, what);
	ck_assert_msg(s.returned == 0, "%s: %u violations", what, s.returned);
	ck_assert_uint_eq(s.parsed, 0);
}

/* ---- healthy states ---------------------------------------------------------- */

static void check_rich(bool override, bool direct)
{
	struct image *img = rich_image(override);
	struct seen s;

	if (!direct)
		img->mem.direct = NULL;
	run_check(&img->mem, &img->sym, &s);
	if (s.returned)
		seen_dump(&s, "rich image");
	ck_assert_uint_eq(s.returned, 0);
	ck_assert_uint_eq(s.stats.spaces, RICH_SPACES);
	ck_assert_uint_eq(s.stats.mappings, RICH_MAPPINGS);
	ck_assert_uint_gt(s.stats.hments, 0);
	ck_assert_uint_eq(s.stats.ptes % MM_PTES, 0);
	img_free(img);
}

START_TEST(healthy_through_page_tables)
{
	check_rich(false, true);
}
END_TEST

START_TEST(healthy_with_translation_override)
{
	check_rich(true, true);
}
END_TEST

START_TEST(healthy_through_read_phys_only)
{
	check_rich(false, false);
}
END_TEST

START_TEST(healthy_kernel_only)
{
	struct image *img = img_new(IMG_RAM, false);
	struct seen s;

	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.returned, 0);
	ck_assert_uint_eq(s.stats.spaces, 1);
	ck_assert_uint_eq(s.stats.mappings, 0);
	img_free(img);
}
END_TEST

extern struct objcache hment_cache;                          /* the hosted MM's (guest/hment.c) */
extern struct objcache_cpu hment_cache_cpus[HAT_MAX_CPUS];
void *objcache_alloc(struct objcache *oc);                   /* guest/objcache.c */
void objcache_free(struct objcache *oc, void *obj);
void mm_hosted_set_cpu(unsigned cpu);                        /* tests/lib/hosted_platform.c */

/* One planted fault in the hosted MM's per-CPU hment lists: exactly one violation, of this ID. */
static void expect_cpu_list_fault(struct check_mem *mem, struct mm_symbols *sym, enum invariant_id id,
				  const char *what)
{
	struct seen s;

	hmm_view(mem, sym);
	run_check(mem, sym, &s);
	if (s.returned != 1 || s.per_id[id] != 1)
		seen_dump(&s, what);
	ck_assert_uint_eq(s.returned, 1);
	ck_assert_uint_eq(s.per_id[id], 1);
}

/* Whether a kept violation of id says `needle`. */
static bool seen_says(const struct seen *s, enum invariant_id id, const char *needle)
{
	for (unsigned i = 0; i < s->kept; i++)
		if (s->v[i].id == id && strstr(s->v[i].detail, needle) != NULL)
			return true;
	return false;
}

/*
 * A double free through the cache's own calls: an hment freed back onto
 * CPU 0's list, then once more from CPU 1, which has no list on its
 * page, onto the page's free list. The object is on two lists at once
 * (OC_FREE, naming both); its one link now leads the page's list, so
 * CPU 0's list ends at it, short of its count (OC_FREE).
 */
START_TEST(hosted_object_on_two_lists)
{
	struct check_mem mem;
	struct mm_symbols sym;
	struct seen s;
	void *obj;

	hosted_state(3, &mem, &sym);
	obj = objcache_alloc(&hment_cache);
	objcache_free(&hment_cache, obj);
	mm_hosted_set_cpu(1);
	objcache_free(&hment_cache, obj);
	mm_hosted_set_cpu(0);
	hmm_view(&mem, &sym);
	run_check(&mem, &sym, &s);
	if (s.returned != 2)
		seen_dump(&s, "an object on two lists");
	ck_assert_uint_eq(s.per_id[INV_OC_FREE], 2);
	ck_assert_uint_eq(s.returned, 2);
	ck_assert(seen_says(&s, INV_OC_FREE, "on its page's free list and on CPU 0's list at once"));
	ck_assert(seen_says(&s, INV_OC_FREE, "CPU 0's list of the hment cache counts"));
	hmm_shutdown();
}
END_TEST

/* Two CPUs' lists that are one list (CPU 1's a copy of CPU 0's): each object on both at once. */
START_TEST(hosted_cpu_lists_sharing_objects)
{
	struct check_mem mem;
	struct mm_symbols sym;
	struct seen s;

	hosted_state(3, &mem, &sym);
	hment_cache_cpus[1] = hment_cache_cpus[0];
	hmm_view(&mem, &sym);
	run_check(&mem, &sym, &s);
	if (s.per_id[INV_OC_FREE] != 1)
		seen_dump(&s, "two CPUs' lists sharing objects");
	ck_assert_uint_eq(s.per_id[INV_OC_FREE], 1);
	ck_assert(seen_says(&s, INV_OC_FREE, "on CPU 1's list and on CPU 0's list at once"));
	hment_cache_cpus[1] = (struct objcache_cpu){ .oa_slab = 0 };
	hmm_shutdown();
}
END_TEST

/*
 * The CPUs' hment lists: what they hold is free (the healthy check), an
 * object dropped from one is a leak, and each fault in them is reported;
 * so is a wrong count of wholly free pages.
 */
START_TEST(hosted_cpu_lists_checked)
{
	struct objcache_cpu saved, *a = &hment_cache_cpus[0];
	struct check_mem mem;
	struct mm_symbols sym;

	hosted_state(3, &mem, &sym);
	ck_assert_uint_gt(a->oa_count, 1);   /* the workload's hments came from CPU 0's list */
	expect_clean(&mem, &sym, "the hosted MM with hments on CPU 0's list");
	saved = *a;
	hment_cache_cpus[1].oa_lock.ml_locked = 1;
	expect_cpu_list_fault(&mem, &sym, INV_LK_QUIESCENT, "a CPU's list locked");
	hment_cache_cpus[1].oa_lock.ml_locked = 0;
	a->oa_count++;
	expect_cpu_list_fault(&mem, &sym, INV_OC_FREE, "a CPU's list counting one more than it holds");
	*a = saved;
	a->oa_free += 8;
	expect_cpu_list_fault(&mem, &sym, INV_OC_FREE, "a CPU's list starting inside an object");
	*a = saved;
	a->oa_slab -= 8;
	expect_cpu_list_fault(&mem, &sym, INV_OC_FREE, "a CPU's list on no page header");
	*a = saved;
	a->oa_free = *(const uint16_t *)(uintptr_t)(a->oa_slab + OBJCACHE_SLAB_SIZE - MM_PAGE_SIZE + a->oa_free - 1);
	a->oa_count--;
	expect_cpu_list_fault(&mem, &sym, INV_OC_LEAK, "an object dropped from a CPU's list");
	*a = saved;
	hment_cache.oc_nidle++;
	expect_cpu_list_fault(&mem, &sym, INV_OC_FREE, "one wholly free page too many counted");
	hment_cache.oc_nidle--;
	hmm_view(&mem, &sym);
	expect_clean(&mem, &sym, "the lists put back");
	hmm_shutdown();
}
END_TEST

START_TEST(healthy_hosted_mm)
{
	struct check_mem mem;
	struct mm_symbols sym;
	struct seen s;

	hosted_state((uint64_t)_i + 1, &mem, &sym);
	run_check(&mem, &sym, &s);
	if (s.returned)
		seen_dump(&s, "hosted MM");
	ck_assert_uint_eq(s.returned, 0);
	ck_assert_uint_ge(s.stats.spaces, 6);
	ck_assert_uint_gt(s.stats.mappings, 0);
	hmm_shutdown();
}
END_TEST

START_TEST(stats_reach_the_report)
{
	struct image *img = rich_image(false);
	struct check_stats st;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct report *r = report_new(f);

	ck_assert_uint_eq(checker_run(&img->mem, &img->sym, r, "label-x", &st), 0);
	ck_assert_uint_eq(report_violations_total(r), 0);
	report_free(r);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "check \"label-x\": spaces=4 "));
	ck_assert_ptr_nonnull(strstr(text, "mappings=183 "));
	ck_assert_uint_eq(checker_run(&img->mem, &img->sym, NULL, "no report", NULL), 0);
	free(text);
	img_free(img);
}
END_TEST

/* ---- injections ---------------------------------------------------------------- */

static bool is_model_id(enum invariant_id id)
{
	return id == INV_MD_LOG || id == INV_MD_EXTRA || id == INV_MD_MISSING || id == INV_MD_ATTR ||
	       id == INV_MD_FLUSH || id == INV_MD_RESULT || id == INV_MD_AD || id == INV_MD_PRUNE;
}

/*
 * MD_FLUSH plants in a log record the model has not applied yet: `before`
 * runs ahead of the model's first check, `after` behind it, and between
 * them they leave such a record (a loaded space's unload). Set by each
 * test for its kind of memory.
 */
static struct {
	void (*before)(void *ctx);
	void (*after)(void *ctx);
	void (*query)(void *ctx);   /* MD_RESULT: a getpfnum the model has not seen */
	void (*sync)(void *ctx);    /* MD_AD: a pagesync the model has not seen */
	void *ctx;
} fresh;

/*
 * A synthetic image: the first of rich_image's 64 private pages at
 * 0x400000 still mapped goes, logged as a loaded space's flushed unload.
 */
static void image_fresh_after(void *ctx)
{
	struct image *img = ctx;

	for (uint64_t h = img_hat(img, img_kas(img))->h_next; h != 0; h = img_hat(img, h)->h_next) {
		for (uint64_t va = 0x400000; va < 0x400000 + 64 * MM_PAGE_SIZE; va += MM_PAGE_SIZE) {
			uint64_t *pte = img_pte(img, h, va, 1);

			if (pte == NULL || !(*pte & PTE_P))
				continue;
			img_unmap(img, h, va);
			img_log_op(img, (struct hat_op){ .o_kind = HOP_UNLOAD, .o_space = img_hat(img, h)->h_id,
							 .o_va = va, .o_len = MM_PAGE_SIZE, .o_loaded = 1,
							 .o_flushes = 1 });
			return;
		}
	}
}

/* A synthetic image: a logged getpfnum of an unmapped user VA of the first space, answered "nothing". */
static void image_fresh_query(void *ctx)
{
	struct image *img = ctx;
	uint64_t h = img_hat(img, img_kas(img))->h_next;

	img_log_op(img, (struct hat_op){ .o_kind = HOP_GETPFNUM, .o_space = img_hat(img, h)->h_id,
					 .o_va = 0x7f0000000000ull, .o_pfn = UINT32_MAX, .o_result = -1 });
}

/* A synthetic image: a logged pagesync (with HAT_SYNC_CLEAR) of a page no leaf maps, answered 0. */
static void image_fresh_sync(void *ctx)
{
	img_log_op(ctx, (struct hat_op){ .o_kind = HOP_PAGESYNC, .o_pfn = 0x100, .o_attr = 1 });
}

static void use_image_fresh(struct image *img)
{
	fresh.before = NULL;
	fresh.after = image_fresh_after;
	fresh.query = image_fresh_query;
	fresh.sync = image_fresh_sync;
	fresh.ctx = img;
}

/* The hosted MM: a real unload of a loaded space, then a new view of the MM (its globals are copied). */
struct hosted_view {
	struct check_mem *mem;
	struct mm_symbols *sym;
};

static void hosted_fresh_before(void *ctx)
{
	struct hosted_view *v = ctx;

	hmm_flush_target_map();
	hmm_view(v->mem, v->sym);
}

static void hosted_fresh_after(void *ctx)
{
	struct hosted_view *v = ctx;

	hmm_flush_target_unload();
	hmm_view(v->mem, v->sym);
}

/* The hosted MM's query and space list (guest/hat.h; this test is built HATVM_HOST: GPTRs are integers). */
extern struct hat *hat_list;
uint64_t hat_getpfnum(struct hat *h, uint64_t va);

/* The hosted MM: a real getpfnum of a user VA in the first space after hat_kas. */
static void hosted_fresh_query(void *ctx)
{
	struct hosted_view *v = ctx;
	struct hat *h = (struct hat *)(uintptr_t)hat_list->h_next;

	ck_assert_ptr_nonnull(h);
	(void)hat_getpfnum(h, 0x400000);
	hmm_view(v->mem, v->sym);
}

extern struct page *page_array;
extern uint64_t page_first_managed;
unsigned hat_pagesync(struct page *pp, unsigned flags);

/* The hosted MM: a real pagesync (clearing) of the first managed page. */
static void hosted_fresh_sync(void *ctx)
{
	struct hosted_view *v = ctx;

	(void)hat_pagesync(&page_array[page_first_managed], 1);
	hmm_view(v->mem, v->sym);
}

/*
 * For the model's IDs (MD_*): a model attached and started by one check
 * (it rebuilds from the tables), as vmm --check=checkpoints has it.
 */
static void model_start(const struct check_mem *mem, const struct mm_symbols *sym,
			enum invariant_id id)
{
	static struct hat_model *model;

	if (model == NULL)
		model = hat_model_new();
	ck_assert_ptr_nonnull(model);
	checker_use_model(is_model_id(id) ? model : NULL);
	if (id == INV_MD_FLUSH && fresh.before)
		fresh.before(fresh.ctx);
	if (is_model_id(id))
		expect_clean(mem, sym, "the model's first check");
	if (id == INV_MD_FLUSH && fresh.after)
		fresh.after(fresh.ctx);
	if (id == INV_MD_RESULT && fresh.query)
		fresh.query(fresh.ctx);
	if (id == INV_MD_AD && fresh.sync)
		fresh.sync(fresh.ctx);
}

/* Plants id, checks that only id is reported and at the planted location, undoes, checks clean. */
static void inject_and_see(const struct check_mem *mem, const struct mm_symbols *sym,
			   enum invariant_id id)
{
	struct inject_undo undo;
	char what[256];
	struct seen s;
	int rc;

	model_start(mem, sym, id);
	rc = inject_plant(mem, sym, id, &undo, what, sizeof(what));

	if (!inject_supported(id)) {   /* e.g. PT_WALK_AGREE: refused, nothing written */
		ck_assert_int_eq(rc, -1);
		ck_assert_uint_eq(undo.n, 0);
		return;
	}
	ck_assert_msg(rc == 0, "%s: inject_plant returned %d: %s", invariant_name(id), rc, what);
	ck_assert_uint_gt(undo.n, 0);
	run_check(mem, sym, &s);
	if (s.per_id[id] == 0 || s.per_id[id] != s.parsed ||
	    !seen_has(&s, id, undo.space, undo.va, undo.pfn)) {
		fprintf(stderr, "planted %s: %s\n", invariant_name(id), what);
		seen_dump(&s, "reported");
	}
	ck_assert_msg(s.per_id[id] > 0, "%s not reported", invariant_name(id));
	ck_assert_msg(s.per_id[id] == s.parsed, "%s: other invariants reported too", invariant_name(id));
	ck_assert_uint_eq(s.returned, s.parsed);
	ck_assert_msg(seen_has(&s, id, undo.space, undo.va, undo.pfn),
		      "%s not reported at the planted location (%s)", invariant_name(id), what);
	ck_assert(inject_undo(mem, &undo));
	ck_assert_uint_eq(undo.n, 0);
	if (id == INV_MD_LOG)
		expect_clean(mem, sym, "the model's new start after a bad log");
	expect_clean(mem, sym, "after inject_undo");
	checker_use_model(NULL);
}

START_TEST(inject_each_synthetic)
{
	struct image *img = rich_image(false);

	use_image_fresh(img);
	inject_and_see(&img->mem, &img->sym, (enum invariant_id)_i);
	img_free(img);
}
END_TEST

START_TEST(inject_each_hosted_mm)
{
	struct check_mem mem;
	struct mm_symbols sym;
	struct hosted_view view = { &mem, &sym };

	hosted_state(7, &mem, &sym);
	fresh.before = hosted_fresh_before;
	fresh.after = hosted_fresh_after;
	fresh.query = hosted_fresh_query;
	fresh.sync = hosted_fresh_sync;
	fresh.ctx = &view;
	inject_and_see(&mem, &sym, (enum invariant_id)_i);
	/* the restored MM keeps working and stays consistent */
	hmm_workload(99, 5, 1000);
	hmm_view(&mem, &sym);
	expect_clean(&mem, &sym, "hosted MM after undo and more work");
	hmm_shutdown();
}
END_TEST

START_TEST(inject_undo_restores_every_byte)
{
	struct image *img = rich_image(false);
	uint8_t *before = malloc(IMG_RAM);

	ck_assert_ptr_nonnull(before);
	use_image_fresh(img);
	for (unsigned id = 0; id < INV_COUNT; id++) {
		struct inject_undo undo;
		char what[256];

		if (!inject_supported(id))
			continue;
		model_start(&img->mem, &img->sym, id);   /* MD_FLUSH's changes memory: compare after it */
		memcpy(before, img->ram, IMG_RAM);
		ck_assert_int_eq(inject_plant(&img->mem, &img->sym, id, &undo, what, sizeof(what)), 0);
		ck_assert_int_ne(memcmp(before, img->ram, IMG_RAM), 0);
		ck_assert(inject_undo(&img->mem, &undo));
		ck_assert_msg(memcmp(before, img->ram, IMG_RAM) == 0, "%s left a trace",
			      invariant_name(id));
	}
	free(before);
	img_free(img);
}
END_TEST

/*
 * The injectable IDs split by what a kernel-only image offers: no target
 * without user state, or one in hat_kas. inject_partitions_cover_the_catalogue
 * holds them to every injectable ID exactly once.
 */
static const enum invariant_id need_user_state[] = {
	INV_PT_RSVD, INV_RM_MISSING, INV_RM_STALE, INV_RM_EMBED, INV_RM_SHARE, INV_RM_LINKS,
	INV_RM_PFN, INV_RM_DUP, INV_HS_BUCKET, INV_HS_ORPHAN, INV_ST_FREE_ZERO, INV_PT_PTP_OWNER,
	INV_MD_EXTRA, INV_MD_MISSING, INV_MD_ATTR, INV_PT_MEMTYPE, INV_MD_FLUSH, INV_MD_RESULT,
	INV_MD_AD, INV_PT_DIRTY_ACCESSED, INV_MD_PRUNE,
};
static const enum invariant_id kas_ok[] = {
	INV_PT_PTP_RANGE, INV_PT_LARGE_ALIGN, INV_PT_VALID_CNT, INV_PT_KERNEL_HALF,
	INV_RS_COUNT, INV_ST_ACCOUNT, INV_LK_QUIESCENT, INV_MD_LOG,
	INV_PT_NONLEAF, INV_ST_NMAP, INV_PG_FREE_COUNT, INV_PG_INUSE, INV_ST_LOCKED, INV_RS_TARGET,
	INV_RM_LISTED, INV_OC_LEAK, INV_OC_FREE, INV_ST_CPUS, INV_TLB_STALE,
};

START_TEST(inject_partitions_cover_the_catalogue)
{
	unsigned seen[INV_COUNT] = { 0 };

	for (size_t i = 0; i < sizeof(need_user_state) / sizeof(need_user_state[0]); i++)
		seen[need_user_state[i]]++;
	for (size_t i = 0; i < sizeof(kas_ok) / sizeof(kas_ok[0]); i++)
		seen[kas_ok[i]]++;
	for (unsigned id = 0; id < INV_COUNT; id++)
		ck_assert_msg(seen[id] == (inject_supported(id) ? 1u : 0u),
			      "%s is in %u of the partitions", invariant_name(id), seen[id]);
}
END_TEST

START_TEST(inject_without_target_changes_nothing)
{
	struct image *img = img_new(IMG_RAM, false);

	for (size_t i = 0; i < sizeof(need_user_state) / sizeof(need_user_state[0]); i++) {
		struct inject_undo undo;
		char what[256];
		int rc = inject_plant(&img->mem, &img->sym, need_user_state[i], &undo, what, sizeof(what));

		ck_assert_msg(rc == 1, "%s: %d (%s)", invariant_name(need_user_state[i]), rc, what);
		ck_assert_uint_eq(undo.n, 0);
		expect_clean(&img->mem, &img->sym, invariant_name(need_user_state[i]));
	}
	img_free(img);
}
END_TEST

START_TEST(inject_on_kernel_only_state)
{
	/* with no other space, these fall back to hat_kas */
	for (size_t i = 0; i < sizeof(kas_ok) / sizeof(kas_ok[0]); i++) {
		struct image *img = img_new(IMG_RAM, false);

		inject_and_see(&img->mem, &img->sym, kas_ok[i]);
		img_free(img);
	}
}
END_TEST

START_TEST(inject_refuses_read_only_memory_and_bad_ids)
{
	struct image *img = rich_image(false);
	struct check_mem ro = img->mem;
	struct inject_undo undo;
	char what[256];

	ro.write_phys = NULL;
	ck_assert_int_eq(inject_plant(&ro, &img->sym, INV_RM_MISSING, &undo, what, sizeof(what)), -1);
	ck_assert_ptr_nonnull(strstr(what, "read-only"));
	ck_assert_int_eq(inject_plant(&img->mem, &img->sym, INV_COUNT, &undo, what, sizeof(what)), -1);
	expect_clean(&img->mem, &img->sym, "after refusals");
	img_free(img);
}
END_TEST

/*
 * inject_verify: a planted ID is found at its place only while the checker
 * detects it; with that ID's detection disabled (the test-only hook vmm's
 * HATVM_TEST_DISABLE_CHECK uses), or at another place, it is not.
 */
START_TEST(inject_verify_each)
{
	enum invariant_id id = (enum invariant_id)_i;
	struct image *img = rich_image(false);
	struct report *rep = report_new(NULL);
	struct inject_undo undo, elsewhere;
	char what[256];

	ck_assert_ptr_nonnull(rep);
	use_image_fresh(img);
	if (inject_supported(id)) {
		model_start(&img->mem, &img->sym, id);
		ck_assert_int_eq(inject_plant(&img->mem, &img->sym, id, &undo, what, sizeof(what)), 0);
		checker_set_disabled(1ull << id);
		checker_run(&img->mem, &img->sym, rep, "blind", NULL);
		checker_set_disabled(0);
		ck_assert_msg(!inject_verify(&undo, rep), "%s verified with its check disabled",
			      invariant_name(id));
		if (id == INV_MD_FLUSH || id == INV_MD_RESULT || id == INV_MD_AD) {
			/* the blind check consumed the record: plant in a new one */
			ck_assert(inject_undo(&img->mem, &undo));
			if (id == INV_MD_FLUSH)
				image_fresh_after(img);
			else if (id == INV_MD_RESULT)
				image_fresh_query(img);
			else
				image_fresh_sync(img);
			ck_assert_int_eq(inject_plant(&img->mem, &img->sym, id, &undo, what, sizeof(what)), 0);
		}
		if (id == INV_MD_PRUNE) {
			/* the blind check applied the planted record; after the repair the model starts again */
			ck_assert(inject_undo(&img->mem, &undo));
			checker_run(&img->mem, &img->sym, rep, "rebuilt", NULL);
			ck_assert_int_eq(inject_plant(&img->mem, &img->sym, id, &undo, what, sizeof(what)), 0);
		}
		checker_run(&img->mem, &img->sym, rep, "seeing", NULL);
		ck_assert_msg(inject_verify(&undo, rep), "%s not verified (%s)", invariant_name(id), what);
		elsewhere = undo;
		elsewhere.id = (enum invariant_id)((id + 1) % INV_COUNT);
		ck_assert(!inject_verify(&elsewhere, rep));
		ck_assert(inject_undo(&img->mem, &undo));
		checker_run(&img->mem, &img->sym, rep, "repaired", NULL);
		ck_assert(!inject_verify(&undo, rep));
	}
	report_free(rep);
	img_free(img);
}
END_TEST

/*
 * Unmaps the first two consecutive pages of rich_image's at 0x400000 in
 * the first space that has them and logs their unload as `rec` says
 * (its kind, space and range filled in).
 */
static void unload_two(struct image *img, struct hat_op rec)
{
	for (uint64_t h = img_hat(img, img_kas(img))->h_next; h != 0; h = img_hat(img, h)->h_next) {
		for (uint64_t va = 0x400000; va < 0x400000 + 63 * MM_PAGE_SIZE; va += MM_PAGE_SIZE) {
			uint64_t *a = img_pte(img, h, va, 1), *b = img_pte(img, h, va + MM_PAGE_SIZE, 1);

			if (a == NULL || b == NULL || !(*a & PTE_P) || !(*b & PTE_P))
				continue;
			img_unmap(img, h, va);
			img_unmap(img, h, va + MM_PAGE_SIZE);
			rec.o_kind = HOP_UNLOAD;
			rec.o_space = img_hat(img, h)->h_id;
			rec.o_va = va;
			rec.o_len = 2 * MM_PAGE_SIZE;
			img_log_op(img, rec);
			return;
		}
	}
	ck_abort_msg("no two mapped pages to unload");
}

/* unload_two() loaded on another CPU, one shootdown covering `pages` pages, `freed` table pages freed. */
static void unload_two_freeing(struct image *img, uint32_t pages, int32_t freed)
{
	unload_two(img, (struct hat_op){ .o_pfn = pages, .o_result = freed,
					 .o_loaded = HOP_LOADED_ELSEWHERE, .o_flushes = 1u << 8 });
}

static void unload_two_logged(struct image *img, uint32_t pages)
{
	unload_two_freeing(img, pages, 0);
}

/* rich_image() checked clean under a fresh host model (the model's first check), which stays in use. */
static struct image *rich_image_with_model(struct hat_model **model)
{
	struct image *img = rich_image(false);

	*model = hat_model_new();
	ck_assert_ptr_nonnull(*model);
	checker_use_model(*model);
	expect_clean(&img->mem, &img->sym, "the model's first check");
	return img;
}

static void rich_image_with_model_free(struct image *img, struct hat_model *model)
{
	checker_use_model(NULL);
	hat_model_free(model);
	img_free(img);
}

/* MD_FLUSH: a shootdown that covers fewer pages than the translations an unload removed. */
START_TEST(shootdown_covering_too_few_pages)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	struct seen s;

	unload_two_logged(img, 2);
	expect_clean(&img->mem, &img->sym, "two pages, two flushed");
	unload_two_logged(img, HOP_FLUSH_PAGES_ALL);
	expect_clean(&img->mem, &img->sym, "two pages, a full flush");
	unload_two_logged(img, 1);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_FLUSH], 1);
	ck_assert_uint_eq(s.returned, 1);
	rich_image_with_model_free(img, model);
}
END_TEST

/*
 * MD_FLUSH: an unload that freed table pages of a space loaded elsewhere
 * flushes everything there (paging-structure caches may point at them),
 * and one of nothing mapped that freed tables still flushes.
 */
START_TEST(unload_freeing_tables_flushes_all)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	uint64_t first = img_hat(img, img_kas(img))->h_next;
	struct seen s;

	unload_two_freeing(img, HOP_FLUSH_PAGES_ALL, 1);
	expect_clean(&img->mem, &img->sym, "tables freed, a full flush");
	unload_two_freeing(img, 2, 1);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_FLUSH], 1);
	ck_assert_uint_eq(s.returned, 1);
	img_log_op(img, (struct hat_op){ .o_kind = HOP_UNLOAD, .o_space = img_hat(img, first)->h_id,
					 .o_va = 0x5a5a5a5a5000ull, .o_len = MM_PAGE_SIZE, .o_result = 1,
					 .o_loaded = HOP_LOADED_HERE });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_FLUSH], 1);
	img_log_op(img, (struct hat_op){ .o_kind = HOP_UNLOAD, .o_space = img_hat(img, first)->h_id,
					 .o_va = 0x5a5a5a5a5000ull, .o_len = MM_PAGE_SIZE, .o_result = 0,
					 .o_loaded = HOP_LOADED_HERE });
	expect_clean(&img->mem, &img->sym, "nothing removed, nothing freed");
	rich_image_with_model_free(img, model);
}
END_TEST

/*
 * CPUs racing (o_cpu): an unload that flushed nothing is found out,
 * unless another CPU's pageunload or steal in the same drain, before or
 * after it, may have taken those translations first; the same CPU's may
 * not (its records keep their order). A CPU past the MM's is a bad record.
 */
START_TEST(racing_cpus_explain_a_missing_flush)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	const struct hat_op unflushed = { .o_loaded = HOP_LOADED_HERE };
	const struct hat_op foreign = { .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x7777, .o_cpu = 1 };
	struct seen s;

	unload_two(img, unflushed);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_FLUSH], 1);
	ck_assert_uint_eq(s.returned, 1);
	unload_two(img, unflushed);
	img_log_op(img, foreign);
	expect_clean(&img->mem, &img->sym, "CPU 1's pageunload after it");
	img_log_op(img, (struct hat_op){ .o_kind = HOP_STEAL, .o_space = 1, .o_va = 0x7f0000000000ull,
					 .o_pfn = 0x7777, .o_cpu = 2 });
	unload_two(img, unflushed);
	expect_clean(&img->mem, &img->sym, "CPU 2's steal before it");
	img_log_op(img, (struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x7777 });
	unload_two(img, unflushed);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_FLUSH], 1);   /* its own CPU's pageunload explains nothing */
	img_log_op(img, (struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x7777, .o_cpu = HAT_MAX_CPUS });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_LOG], 1);
	rich_image_with_model_free(img, model);
}
END_TEST

/*
 * MD_PRUNE with CPUs racing: an unload over an empty table it should
 * have freed is found out, unless another CPU's pageunload is in the
 * same drain (it may have emptied the table after the unload looked,
 * though logged before it); the unload's own CPU's is no excuse.
 */
START_TEST(racing_cpus_explain_an_empty_table)
{
	struct image *img = rich_image(false);
	struct inject_undo undo;
	char what[256];
	struct seen s;

	for (unsigned cpu = 0; cpu < 2; cpu++) {
		unsigned want = cpu == 0;

		model_start(&img->mem, &img->sym, INV_MD_PRUNE);
		img_log_op(img, (struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x7777,
						 .o_cpu = (uint8_t)cpu });
		ck_assert_int_eq(inject_plant(&img->mem, &img->sym, INV_MD_PRUNE, &undo, what,
					      sizeof(what)), 0);
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_eq(s.per_id[INV_MD_PRUNE], want);
		ck_assert_uint_eq(s.returned, want);
		ck_assert(inject_undo(&img->mem, &undo));
		checker_use_model(NULL);
	}
	img_free(img);
}
END_TEST

/* The h_id of rich_image()'s first space on hat_list that maps va with a 4 KiB leaf. */
static uint32_t rich_space_mapping(struct image *img, uint64_t va)
{
	for (uint64_t h = img_hat(img, img_kas(img))->h_next; h != 0; h = img_hat(img, h)->h_next) {
		uint64_t *pte = img_pte(img, h, va, 1);

		if (pte != NULL && (*pte & PTE_P))
			return img_hat(img, h)->h_id;
	}
	ck_abort_msg("no space maps 0x%" PRIx64, va);
	return 0;
}

/* MD_MISSING: a hat_dup that says it copied fewer leaves than its source maps in the range. */
START_TEST(dup_copying_too_few)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	uint32_t src = rich_space_mapping(img, 0x400000);
	struct seen s;

	img_log_op(img, (struct hat_op){ .o_kind = HOP_DUP, .o_space = src + 100, .o_va = 0x400000,
					 .o_len = MM_LARGE_SIZE, .o_pfn = src, .o_attr = HAT_READ | HAT_USER,
					 .o_result = MM_PTES });
	expect_clean(&img->mem, &img->sym, "a dup that copied a table's worth");
	img_log_op(img, (struct hat_op){ .o_kind = HOP_DUP, .o_space = src + 100, .o_va = 0x400000,
					 .o_len = MM_LARGE_SIZE, .o_pfn = src, .o_attr = HAT_READ | HAT_USER,
					 .o_result = 0 });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_MISSING], 1);
	ck_assert_uint_eq(s.returned, 1);
	ck_assert(seen_has(&s, INV_MD_MISSING, src + 100, 0x400000, REPORT_NONE));
	img_log_op(img, (struct hat_op){ .o_kind = HOP_DUP, .o_space = src + 100, .o_va = 0x400000,
					 .o_len = MM_LARGE_SIZE, .o_pfn = src, .o_result = -1 });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_LOG], 1);
	rich_image_with_model_free(img, model);
}
END_TEST

/* The leaf of rich_image()'s space that maps va at level (the first such space on hat_list). */
static uint64_t *rich_leaf(struct image *img, uint64_t va, unsigned level)
{
	for (uint64_t h = img_hat(img, img_kas(img))->h_next; h != 0; h = img_hat(img, h)->h_next) {
		uint64_t *pte = img_pte(img, h, va, level);

		if (pte != NULL && (*pte & PTE_P))
			return pte;
	}
	ck_abort_msg("no space maps 0x%" PRIx64, va);
	return NULL;
}

/* A logged getmapcnt of pfn, answered n. */
static void mapcnt_logged(struct image *img, uint64_t pfn, int32_t n)
{
	img_log_op(img, (struct hat_op){ .o_kind = HOP_MAPCNT, .o_pfn = (uint32_t)pfn, .o_result = n });
}

/* MD_RESULT: getmapcnt counts a page's 4 KiB mappings and the 2 MiB ones covering it, no more, no fewer. */
START_TEST(mapping_count_answers)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	uint64_t solo = (*rich_leaf(img, 0x400000, 1) & PTE_FRAME) >> MM_PAGE_SHIFT;
	uint64_t big = (*rich_leaf(img, 0x40000000, 2) & PTE_LFRAME) >> MM_PAGE_SHIFT;
	struct seen s;

	mapcnt_logged(img, solo, 1);
	mapcnt_logged(img, big, 2);
	mapcnt_logged(img, big + 7, 2);                    /* a subpage: both 2 MiB mappings cover it */
	mapcnt_logged(img, big + MM_LARGE_PAGES - 1, 2);
	expect_clean(&img->mem, &img->sym, "right counts");
	mapcnt_logged(img, big + 7, 3);
	mapcnt_logged(img, solo, 0);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_RESULT], 2);
	ck_assert_uint_eq(s.returned, 2);
	mapcnt_logged(img, solo, -1);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_LOG], 1);
	rich_image_with_model_free(img, model);
}
END_TEST

/* PG_INUSE by the log: a page_free_large that gave fewer than 512 pages back; MD_LOG: a misaligned block. */
START_TEST(large_free_gives_back_the_block)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	struct seen s;

	img_log_op(img, (struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = 0x400, .o_result = 512 });
	img_log_op(img, (struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = 0x600, .o_result = 530 });
	expect_clean(&img->mem, &img->sym, "whole blocks (others' frees meanwhile)");
	img_log_op(img, (struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = 0x400, .o_result = 511 });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PG_INUSE], 1);
	ck_assert_uint_eq(s.returned, 1);
	img_log_op(img, (struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = 0x401, .o_result = 512 });
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_LOG], 1);
	rich_image_with_model_free(img, model);
}
END_TEST

/* PT_DIRTY_ACCESSED: D without A on a user leaf; A alone and A with D are fine. */
START_TEST(dirty_without_accessed)
{
	struct image *img = rich_image(false);
	uint64_t *pte = rich_leaf(img, 0x400000, 1);
	struct seen s;

	*pte |= PTE_A;
	expect_clean(&img->mem, &img->sym, "accessed");
	*pte |= PTE_D;
	expect_clean(&img->mem, &img->sym, "accessed and dirty");
	*pte &= ~PTE_A;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PT_DIRTY_ACCESSED], 1);
	ck_assert_uint_eq(s.returned, 1);
	img_free(img);
}
END_TEST

/* PG_INUSE: kernel and user pages that took the emergency reserve (only table pages may), or tables that took more than it served. */
START_TEST(ordinary_pages_in_the_reserve)
{
	struct image *img = rich_image(false);
	struct page_pool *pool = img_va(img, img->sym.page_pool);
	struct seen s;

	pool->limit = pool->ninuse;
	pool->reserve = 0;
	expect_clean(&img->mem, &img->sym, "at the cap, no reserve");
	pool->reserve = pool->limit;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PG_INUSE], 1);
	ck_assert_uint_eq(s.returned, 1);
	/* tables (not ordinary pages) two into a reserve of three that served one */
	pool->limit = pool->ninuse + 1;
	pool->reserve = 3;
	pool->nreserve = 1;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PG_INUSE], 1);
	pool->nreserve = 2;
	expect_clean(&img->mem, &img->sym, "two pages of the reserve served");
	img_free(img);
}
END_TEST

/* ST_FREE_ZERO: a table-page cache holding more pages than its maximum. */
START_TEST(cache_over_its_maximum)
{
	struct image *img = rich_image(false);
	struct ptp_cache *pc = img_va(img, img->sym.segtab_ptp_cache);
	struct seen s;

	ck_assert_uint_gt(pc->pc_count, 0);
	pc->pc_max = pc->pc_count;
	expect_clean(&img->mem, &img->sym, "a cache at its maximum");
	pc->pc_max = pc->pc_count - 1;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_ST_FREE_ZERO], 1);
	ck_assert_uint_eq(s.returned, 1);
	img_free(img);
}
END_TEST

/* PT_PTP_OWNER: a space's walk hint names one of its own user 4 KiB tables, or nothing. */
START_TEST(walk_hint_names_an_own_table)
{
	struct image *img = rich_image(false);
	uint64_t c = img_hat(img, img_kas(img))->h_next, b = img_hat(img, c)->h_next;
	struct hat *h = img_hat(img, c);
	uint64_t own = (uint64_t)((uint8_t *)img_pte(img, c, 0x7f0000000000ull, 1) - img->ram) >> MM_PAGE_SHIFT;
	uint64_t other = (uint64_t)((uint8_t *)img_pte(img, b, 0x20000000, 1) - img->ram) >> MM_PAGE_SHIFT;
	const uint64_t wrong[] = {
		img_page_va(img, h->h_top_pa >> MM_PAGE_SHIFT),   /* its PML4 */
		img_page_va(img, other),                           /* another space's table */
		img_page_va(img, img->next_pfn),                   /* a free page */
		img_page_va(img, own) + 8,                         /* inside a page_t */
		0x1234,                                            /* no page_t at all */
	};
	struct seen s;

	h->h_hint = img_page_va(img, own);
	expect_clean(&img->mem, &img->sym, "the hint names the space's table");
	for (unsigned i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		h->h_hint = wrong[i];
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_eq(s.per_id[INV_PT_PTP_OWNER], 1);
		ck_assert_uint_eq(s.returned, 1);
	}
	img_free(img);
}
END_TEST

/*
 * A cache whose object size or count per page is garbage is reported
 * (OC_FREE), and its CPUs' lists are not walked with it: a size of 0
 * would divide by zero, a count past a page's objects overrun the walk's
 * bitmap. The page under the list says the same size, so only the
 * cache's shape is wrong.
 */
static void shapeless_cache_with_cpu_list(struct image *img)
{
	struct objcache *oc = img_hment_cache(img);
	struct objcache_slab *s = img_slab(img, img_cpu_lists(img)[3].oa_slab);
	const struct objcache saved = *oc;
	const uint32_t saved_size = s->os_size;
	const uint32_t shapes[][2] = { { 0, 0 }, { 8, 60000 } };
	struct seen seen;

	for (unsigned k = 0; k < 2; k++) {
		oc->oc_size = shapes[k][0];
		oc->oc_per_page = shapes[k][1];
		s->os_size = shapes[k][0];
		run_check(&img->mem, &img->sym, &seen);
		ck_assert_uint_gt(seen.per_id[INV_OC_FREE], 0);
		*oc = saved;
		s->os_size = saved_size;
	}
	expect_clean(&img->mem, &img->sym, "the cache's shape restored");
}

/* A synthetic image's CPU list: clean as taken; its count, its start and its page each checked. */
START_TEST(image_cpu_list_checked)
{
	struct image *img = rich_image(false);
	struct objcache_cpu *a = &img_cpu_lists(img)[3], saved;
	struct seen s;

	img_cpu_list_take(img, 3);
	ck_assert_uint_gt(a->oa_count, 0);
	expect_clean(&img->mem, &img->sym, "a CPU holding a page's free list");
	shapeless_cache_with_cpu_list(img);
	saved = *a;
	for (unsigned k = 0; k < 3; k++) {
		if (k == 0)
			a->oa_count--;
		else if (k == 1)
			a->oa_free += 1;
		else
			a->oa_slab ^= 0x1000;
		run_check(&img->mem, &img->sym, &s);
		if (s.returned != 1 || s.per_id[INV_OC_FREE] != 1)
			seen_dump(&s, "a CPU's list spoilt");
		ck_assert_uint_eq(s.per_id[INV_OC_FREE], 1);
		ck_assert_uint_eq(s.returned, 1);
		*a = saved;
	}
	img_free(img);
}
END_TEST

/*
 * OC_LEAK counts both ways, in both caches; a list cut short (a loop)
 * leaves the hments' count unknown, and it is not judged.
 */
START_TEST(leak_is_judged_on_whole_counts)
{
	struct image *img = rich_image(false);
	struct objcache *caches[] = { img_hment_cache(img), img_hat_cache(img) };
	struct objcache *oc = caches[0];
	struct seen s;

	for (unsigned k = 0; k < 2; k++) {
		ck_assert_uint_gt(caches[k]->oc_inuse, 0);
		for (int delta = -1; delta <= 1; delta += 2) {
			caches[k]->oc_inuse += (uint64_t)delta;
			run_check(&img->mem, &img->sym, &s);
			ck_assert_uint_eq(s.per_id[INV_OC_LEAK], 1);
			ck_assert_uint_eq(s.returned, 1);
			caches[k]->oc_inuse -= (uint64_t)delta;
		}
	}
	expect_clean(&img->mem, &img->sym, "oc_inuse restored");
	img_adv_long_list(img, 40, true);
	oc->oc_inuse += 5;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_RM_LINKS], 0);
	ck_assert_uint_eq(s.per_id[INV_OC_LEAK], 0);
	img_free(img);
}
END_TEST

/* MD_LOG: a dropped record (ol_lost grown) is reported once, and the model starts again from the tables. */
START_TEST(dropped_log_records_are_reported_once)
{
	struct image *img = rich_image(false);
	struct seen s;

	model_start(&img->mem, &img->sym, INV_MD_LOG);
	img_oplog(img)->ol_lost += 3;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_MD_LOG], 1);
	ck_assert_uint_eq(s.returned, 1);
	expect_clean(&img->mem, &img->sym, "the drop, reported once");
	checker_use_model(NULL);
	img_free(img);
}
END_TEST

/* One MD_LOG check of img, then a clean one after the repair (the model starts again from the tables). */
static void expect_log_fault(struct image *img, const char *what, void (*undo)(struct image *img))
{
	struct seen s;

	run_check(&img->mem, &img->sym, &s);
	ck_assert_msg(s.per_id[INV_MD_LOG] == 1 && s.returned == 1, "%s: %u MD_LOG of %u", what,
		      s.per_id[INV_MD_LOG], s.returned);
	undo(img);
	expect_clean(&img->mem, &img->sym, what);
}

static struct hat_oplog_lane *lane0(struct image *img)
{
	return img_va(img, img_oplog(img)->ol_ring);
}

static void fill_missing(struct image *img)
{
	img_oplog(img)->ol_next--;
}

/* Lane 0 drained: the host has seen all it holds. */
static void drain_lane(struct image *img)
{
	lane0(img)->l_drained = lane0(img)->l_next;
}

/* The image's log shape again: one lane of what its page holds. */
static void one_lane(struct image *img)
{
	img_oplog(img)->ol_nlanes = 1;
	img_oplog(img)->ol_size = (MM_PAGE_SIZE - sizeof(struct hat_oplog_lane)) / sizeof(struct hat_op);
}

/* One lane again, the record counter back to lane 0's, and that lane drained. */
static void one_lane_after_all(struct image *img)
{
	one_lane(img);
	img_oplog(img)->ol_next -= ((uint64_t)HAT_MAX_CPUS << 14) - 1;
	drain_lane(img);
}

/*
 * MD_LOG: the records the host has not seen are merged from the lanes by
 * number; a number two slots hold, a number no lane holds, a lane's
 * counters out of order, no lanes or more than the MM has CPUs, lanes
 * past the MM's size or past guest memory: each is a log the MM cannot
 * have written, and none makes the host read or hold more than the
 * MM's largest log could.
 */
START_TEST(log_lanes_hold_each_record_once)
{
	struct hat_model *model;
	struct image *img = rich_image_with_model(&model);
	struct hat_oplog_lane *lane = lane0(img);
	uint64_t pfn = (*rich_leaf(img, 0x400000, 1) & PTE_FRAME) >> MM_PAGE_SHIFT;
	struct hat_op *ring = (struct hat_op *)(lane + 1);

	mapcnt_logged(img, pfn, 1);
	mapcnt_logged(img, pfn, 1);
	expect_clean(&img->mem, &img->sym, "two records in lane 0");
	mapcnt_logged(img, pfn, 1);
	ring[lane->l_next % img_oplog(img)->ol_size] = ring[(lane->l_next - 1) % img_oplog(img)->ol_size];
	lane->l_next++;   /* the same number in a second slot */
	expect_log_fault(img, "a record number held twice", drain_lane);
	img_oplog(img)->ol_next++;   /* numbered, in no lane */
	expect_log_fault(img, "a record no lane holds", fill_missing);
	mapcnt_logged(img, pfn, 1);
	lane->l_drained = lane->l_next + 1;
	expect_log_fault(img, "a lane drained past its next slot", drain_lane);
	img_oplog(img)->ol_nlanes = 0;
	expect_log_fault(img, "no lanes", one_lane);
	img_oplog(img)->ol_nlanes = HAT_MAX_CPUS + 1;
	expect_log_fault(img, "more lanes than CPUs", one_lane);
	img_oplog(img)->ol_size = 1u << 20;
	expect_log_fault(img, "a lane larger than the MM's", one_lane);
	mapcnt_logged(img, pfn, 1);
	img_oplog(img)->ol_nlanes = HAT_MAX_CPUS;   /* the largest log the host merges: lanes on any pages */
	img_oplog(img)->ol_size = 1u << 14;
	img_oplog(img)->ol_next += ((uint64_t)HAT_MAX_CPUS << 14) - 1;
	expect_log_fault(img, "every lane full of records to show", one_lane_after_all);
	rich_image_with_model_free(img, model);
}
END_TEST

/* ST_CPUS: a space's CPU set against the CPUs' loaded spaces; a loaded space on no list. */
START_TEST(cpu_sets_match_loaded_spaces)
{
	struct image *img = rich_image(false);
	uint64_t *loaded = img_va(img, img->sym.hat_cpu), kas = img_kas(img);
	uint64_t user = img_hat(img, kas)->h_next;
	struct seen s;

	ck_assert_uint_ne(user, 0);
	loaded[0] = kas;                           /* CPU 0 runs on hat_kas, CPU 2 on the first user space */
	img_hat(img, kas)->h_cpus = 1;
	loaded[2] = user;
	img_hat(img, user)->h_cpus = 4;
	expect_clean(&img->mem, &img->sym, "two CPUs, two spaces");
	img_hat(img, user)->h_cpus = 0;            /* a switch that forgot to announce CPU 2 */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_ST_CPUS], 1);
	ck_assert_uint_eq(s.returned, 1);
	ck_assert(seen_has(&s, INV_ST_CPUS, img_hat(img, user)->h_id, REPORT_NONE, REPORT_NONE));
	img_hat(img, user)->h_cpus = 4;
	loaded[5] = user + MM_PAGE_SIZE;           /* a space no longer on hat_list, still loaded */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_ST_CPUS], 1);
	ck_assert_uint_eq(s.returned, 1);
	loaded[5] = 0;
	expect_clean(&img->mem, &img->sym, "restored");
	img_free(img);
}
END_TEST

/* OC_FREE: a free-list link off an object boundary, a partial page taken off the list, a stale tail. */
START_TEST(free_objects_must_be_reachable)
{
	struct image *img = rich_image(false);
	struct objcache *oc = img_hment_cache(img);
	struct objcache_slab *first, saved;
	uint64_t head = oc->oc_partial, tail = oc->oc_partial_tail;
	struct seen s;

	ck_assert_uint_ne(head, 0);
	first = img_slab(img, head);
	saved = *first;
	first->os_free += 1;                 /* the first free object, one byte on */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_OC_FREE], 0);
	ck_assert_uint_eq(s.returned, s.per_id[INV_OC_FREE]);
	*first = saved;
	oc->oc_partial = first->os_next;     /* its free objects hidden: a free that did not relist */
	if (oc->oc_partial == 0)
		oc->oc_partial_tail = 0;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_OC_FREE], 1);
	ck_assert_uint_eq(s.returned, 1);
	oc->oc_partial = head;
	oc->oc_partial_tail = tail + MM_PAGE_SIZE;   /* not the list's last page: a free would append there */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_OC_FREE], 1);
	ck_assert_uint_eq(s.returned, 1);
	oc->oc_partial_tail = tail;
	expect_clean(&img->mem, &img->sym, "the cache restored");
	img_free(img);
}
END_TEST

/* A verdict compares each place the injection names, and only those. */
START_TEST(inject_verify_compares_the_planted_place)
{
	struct report *rep = report_new(NULL);
	struct inject_undo undo = { .id = INV_RM_LINKS, .space = 2, .va = 0x50000000, .pfn = 0x70a };

	ck_assert_ptr_nonnull(rep);
	report_begin_check(rep, "one");
	report_violation(rep, INV_RM_LINKS, 2, 0x50000000, 0x70b, "another page");
	report_violation(rep, INV_RM_LINKS, 3, 0x50000000, 0x70a, "another space");
	report_violation(rep, INV_RM_LINKS, 2, 0x50001000, 0x70a, "another address");
	report_end_check(rep, NULL);
	ck_assert(!inject_verify(&undo, rep));
	report_begin_check(rep, "two");
	report_violation(rep, INV_RM_LINKS, 2, 0x50000000, 0x70a, "there");
	ck_assert(inject_verify(&undo, rep));      /* the open check counts */
	report_end_check(rep, NULL);
	ck_assert(inject_verify(&undo, rep));
	undo = (struct inject_undo){ .id = INV_RS_COUNT, .space = REPORT_NONE, .va = REPORT_NONE,
					    .pfn = REPORT_NONE };
	ck_assert(!inject_verify(&undo, rep));
	report_begin_check(rep, "three");
	report_violation(rep, INV_RS_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "reserve");
	report_end_check(rep, NULL);
	ck_assert(inject_verify(&undo, rep));
	report_begin_check(rep, "four");          /* only the last check counts */
	report_end_check(rep, NULL);
	ck_assert(!inject_verify(&undo, rep));
	report_free(rep);
}
END_TEST

/* ---- hostile memory --------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs the checker on a hostile image: it must end, promptly, with bounded work, having complained. */
static void expect_survives(struct image *img, bool must_complain, const char *what)
{
	double t0 = now_s();
	struct seen s;

	run_check(&img->mem, &img->sym, &s);
	ck_assert_msg(now_s() - t0 < 60.0, "%s: the check took %.1f s", what, now_s() - t0);
	ck_assert_uint_le(s.stats.ptes, (IMG_RAM / MM_PAGE_SIZE) * MM_PTES);
	ck_assert_uint_le(s.stats.hments, IMG_RAM / sizeof(struct hment));
	if (must_complain)
		ck_assert_msg(s.returned > 0, "%s: no violation reported", what);
	if (getenv("CHECKER_TEST_VERBOSE")) {
		fprintf(stderr, "%s: %u violations in %.1f ms, ptes %" PRIu64 " hments %" PRIu64 ":",
			what, s.returned, s.ms, s.stats.ptes, s.stats.hments);
		for (unsigned id = 0; id < INV_COUNT; id++)
			if (s.per_id[id])
				fprintf(stderr, " %s=%u", invariant_name(id), s.per_id[id]);
		fputc('\n', stderr);
	}
}

/* Random bytes over [pa, pa + len) of the image. */
static void scribble(struct image *img, uint64_t pa, uint64_t len)
{
	uint8_t *p = img_pa(img, pa);

	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t v = rng();

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

START_TEST(hostile_random_ram)
{
	struct image *img = rich_image(_i % 2);

	rng_state = 0x9e3779b97f4a7c15ull * (uint64_t)(_i + 1);
	scribble(img, 0, IMG_RAM);
	expect_survives(img, true, "random RAM");
	img_free(img);
}
END_TEST

/* Where the MM's metadata lives in a rich image, for targeted garbage. */
static void metadata_range(const struct image *img, unsigned which, uint64_t *pa, uint64_t *len)
{
	switch (which % 5) {
	case 0:   /* the page_t array */
		*pa = img->page_array_pa;
		*len = img->npages * sizeof(struct page);
		break;
	case 1:   /* hash buckets */
		*pa = img->buckets_pa;
		*len = img->hash_size * 4ull;
		break;
	case 2:   /* the MM's variables */
		*pa = IMG_GLOBALS_PA;
		*len = 0x1800;
		break;
	case 3:   /* kernel tables */
		*pa = img->kas_top_pa;
		*len = 16 * MM_PAGE_SIZE;
		break;
	default:  /* managed pages: user tables, hments, hats */
		*pa = img->first_managed << MM_PAGE_SHIFT;
		*len = (img->next_pfn - img->first_managed) << MM_PAGE_SHIFT;
		break;
	}
}

START_TEST(hostile_random_metadata)
{
	struct image *img = rich_image(_i % 3 == 0);
	uint64_t pa, len;

	rng_state = 0xdeadbeefcafef00dull + (uint64_t)_i * 0x1234567ull;
	metadata_range(img, (unsigned)_i, &pa, &len);
	scribble(img, pa, len);
	expect_survives(img, true, "random metadata");
	img_free(img);
}
END_TEST

START_TEST(hostile_sparse_word_flips)
{
	struct image *img = rich_image(_i % 2);
	uint64_t pa, len;

	rng_state = 0x5eed0000ull + (uint64_t)_i;
	for (unsigned n = 0; n < 200; n++) {
		metadata_range(img, (unsigned)rng(), &pa, &len);
		uint64_t *w = img_pa(img, (pa + (rng() % len)) & ~7ull);

		switch (rng() % 4) {
		case 0: *w = rng(); break;
		case 1: *w ^= 1ull << (rng() % 64); break;
		case 2: *w = 0; break;
		default: *w = *(uint64_t *)img_pa(img, (pa + (rng() % len)) & ~7ull); break;
		}
	}
	expect_survives(img, false, "sparse word flips");
	img_free(img);
}
END_TEST

static struct page *first_listed_page(struct image *img, uint64_t *pfn_out)
{
	for (uint64_t pfn = img->first_managed; pfn < img->npages; pfn++) {
		struct page *pg = img_page(img, pfn);

		if (!pg->p_embed && pg->p_mapping && pg->p_share >= 3) {
			*pfn_out = pfn;
			return pg;
		}
	}
	ck_abort_msg("no list of three");
	return NULL;
}

START_TEST(hostile_cyclic_structures)
{
	struct image *img = rich_image(false);
	struct hment_reserve *r = img_va(img, img->sym.hment_reserve);
	struct ptp_cache *pc = img_va(img, img->sym.segtab_ptp_cache);
	struct hat *kas = img_hat(img, img_kas(img));
	hment_ref_t *buckets = img_bucket(img, 0);
	uint64_t pfn;
	struct page *pg = first_listed_page(img, &pfn);
	struct hment *head = img_hment(img, pg->p_mapping);
	struct hment *last = img_hment(img, head->hm_next);
	struct seen s;
	uint32_t b = 0;

	/* a list whose tail points back at its head */
	while (last->hm_next)
		last = img_hment(img, last->hm_next);
	last->hm_next = pg->p_mapping;
	/* a hash chain that ends in itself, the reserve looping, the cache looping, hat_list looping */
	while (buckets[b] == 0)
		b++;
	img_hment(img, buckets[b])->hm_hashnext = buckets[b];
	img_hment(img, r->hr_pool)->hm_next = r->hr_pool;
	img_page(img, (pc->pc_head - (img->page_array_pa + DIRECT_MAP_BASE)) / sizeof(struct page))->p_next =
		pc->pc_head;
	img_hat(img, kas->h_next)->h_next = kas->h_next;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_RM_LINKS], 0);
	ck_assert_uint_gt(s.per_id[INV_HS_BUCKET], 0);
	ck_assert_uint_gt(s.per_id[INV_RS_COUNT], 0);
	ck_assert_uint_gt(s.per_id[INV_ST_FREE_ZERO], 0);
	ck_assert_uint_gt(s.per_id[INV_ST_ACCOUNT], 0);
	img_free(img);
}
END_TEST

/* HS_ORPHAN per stripe: counts moved between two stripes keep the total, and each stripe is still reported. */
START_TEST(hash_stripes_count_their_own_buckets)
{
	struct image *img = rich_image(false);
	struct hment_hash_stripe *stripes = img_va(img, img->sym.hment_hash_locks);
	struct seen s;
	unsigned from = 0;

	while (stripes[from].hs_count == 0)
		from++;
	stripes[from].hs_count--;
	stripes[(from + 1) % HMENT_HASH_NLOCK].hs_count++;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.returned, 2);
	ck_assert_uint_eq(s.per_id[INV_HS_ORPHAN], 2);
	stripes[from].hs_count++;
	stripes[(from + 1) % HMENT_HASH_NLOCK].hs_count--;
	expect_clean(&img->mem, &img->sym, "the stripes' counts put back");
	stripes[from].hs_lock.ml_locked = 1;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.returned, 1);
	ck_assert_uint_eq(s.per_id[INV_LK_QUIESCENT], 1);
	img_free(img);
}
END_TEST

/* OC_LEAK: the CPUs' counts of hments on short lists must add up to what those lists hold, whichever CPU counted. */
START_TEST(short_list_counts_add_up)
{
	struct image *img = rich_image(false);
	struct hment_short_count *counts = img_va(img, img->sym.hment_short_listed);
	struct seen s;

	ck_assert_int_gt(counts[0].sc_count, 0);
	counts[0].sc_count -= 5;
	counts[HAT_MAX_CPUS - 1].sc_count += 5;   /* another CPU unlisted what CPU 0 listed */
	expect_clean(&img->mem, &img->sym, "counts moved between CPUs");
	counts[1].sc_count++;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.returned, 1);
	ck_assert_uint_eq(s.per_id[INV_OC_LEAK], 1);
	counts[1].sc_count = INT64_MAX;   /* hostile: the sum overflows */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_OC_LEAK], 1);
	img_free(img);
}
END_TEST

/* HS_BUCKET: a long list's hment in no hash chain. */
START_TEST(long_lists_must_be_hashed)
{
	struct image *img = rich_image(false);
	uint64_t pfn;
	const struct page *pg = first_listed_page(img, &pfn);
	struct hment *head = img_hment(img, pg->p_mapping);
	struct hment_hash_stripe *stripes = img_va(img, img->sym.hment_hash_locks);
	uint32_t b = hment_hash_bucket(hment_hash_key(head->hm_ptp, head->hm_entry), img->hash_size);
	hment_ref_t *link = img_bucket(img, b);
	struct seen s;

	ck_assert_uint_gt(pg->p_share, HMENT_SHORT_LIST);
	while (*link != pg->p_mapping)
		link = &img_hment(img, *link)->hm_hashnext;
	*link = head->hm_hashnext;   /* unhooked, and its stripe counts one fewer */
	stripes[hment_hash_lock_index(b)].hs_count--;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_HS_BUCKET], 1);
	ck_assert_uint_eq(s.per_id[INV_HS_ORPHAN], 1);   /* the stripes now count one fewer than the long lists hold */
	ck_assert_uint_eq(s.returned, 2);
	img_free(img);
}
END_TEST

START_TEST(hostile_counts_at_their_maximum)
{
	struct image *img = rich_image(false);
	struct hment_hash *hh = img_va(img, img->sym.hment_hash);
	struct hment_hash_stripe *stripes = img_va(img, img->sym.hment_hash_locks);
	struct seen s;

	*(uint64_t *)img_va(img, img->sym.page_count) = UINT64_MAX;
	*(uint64_t *)img_va(img, img->sym.page_first_managed) = UINT64_MAX;
	stripes[0].hs_count = UINT64_MAX;   /* the stripes' sum overflows */
	stripes[1].hs_count = UINT64_MAX;
	((struct hment_reserve *)img_va(img, img->sym.hment_reserve))->hr_count = UINT32_MAX;
	((struct ptp_cache *)img_va(img, img->sym.segtab_ptp_cache))->pc_count = UINT64_MAX;
	img_hat(img, img_kas(img))->h_nptp = UINT64_MAX;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_RM_MISSING], 0);     /* page_count, page_first_managed */
	ck_assert_uint_gt(s.per_id[INV_HS_ORPHAN], 0);
	ck_assert_uint_gt(s.per_id[INV_RS_COUNT], 0);
	ck_assert_uint_gt(s.per_id[INV_ST_FREE_ZERO], 0);
	ck_assert_uint_gt(s.per_id[INV_ST_ACCOUNT], 0);
	/* a hash as big as its 32-bit sizes say, and one below the MM's minimum */
	hh->hh_nbuckets = 0x80000000u;
	expect_survives(img, true, "hh_nbuckets 2^31");
	hh->hh_dir_size = UINT32_MAX;
	hh->hh_nbuckets = UINT32_MAX;
	expect_survives(img, true, "hh_dir_size and hh_nbuckets 2^32-1");
	hh->hh_dir_size = 1;
	hh->hh_nbuckets = 3;
	expect_survives(img, true, "hh_nbuckets 3");
	img_free(img);
}
END_TEST

START_TEST(hostile_table_loops)
{
	struct image *img = rich_image(false);
	uint64_t a = img_hat(img, img_kas(img))->h_next;
	uint64_t top = img_hat(img, a)->h_top_pa;
	uint64_t *pml4 = img_pa(img, top);
	struct seen s;

	/* every user-half PML4 entry points back at the PML4 itself */
	for (unsigned i = 0; i < MM_PML4_KERNEL; i++)
		pml4[i] = top | PTE_P | PTE_W | PTE_U;
	/* and every entry of another space's first PDPT at one PD */
	uint64_t b = img_hat(img, a)->h_next;
	uint64_t *pml4b = img_pa(img, img_hat(img, b)->h_top_pa);
	uint64_t *pdpt = img_pa(img, pml4b[0] & PTE_FRAME);
	uint64_t pd = pdpt[0] & PTE_FRAME;

	for (unsigned i = 0; i < MM_PTES; i++)
		pdpt[i] = pd | PTE_P | PTE_W | PTE_U;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_PT_PTP_OWNER], 0);
	ck_assert_uint_le(s.stats.ptes, 4096 * MM_PTES);
	img_free(img);
}
END_TEST

START_TEST(hostile_pointers_outside_ram)
{
	struct image *img = rich_image(_i == 1);
	uint64_t pfn;
	struct page *pg = first_listed_page(img, &pfn);
	struct seen s;

	switch (_i) {
	case 0:
	case 1:
		pg->p_mapping = 0xdead0000u;                         /* a list head past RAM */
		*img_bucket(img, 1) = 0xfffffff0u;                   /* a chain past RAM */
		((struct hment_reserve *)img_va(img, img->sym.hment_reserve))->hr_pool = 8;   /* zeroes */
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_gt(s.per_id[INV_RM_LINKS], 0);
		ck_assert_uint_gt(s.per_id[INV_HS_BUCKET], 0);
		ck_assert_uint_gt(s.per_id[INV_RS_COUNT], 0);
		break;
	case 2:
		*(uint64_t *)img_va(img, img->sym.page_array) = 0x00007fff00000000ull;
		*(uint64_t *)img_va(img, img->sym.hat_list) = 0xfffff00000000000ull;
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_gt(s.per_id[INV_RM_MISSING], 0);
		ck_assert_uint_gt(s.per_id[INV_ST_ACCOUNT], 0);
		break;
	default:
		img_hat(img, img_kas(img))->h_top_pa = IMG_RAM;      /* CR3 past RAM */
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_gt(s.per_id[INV_PT_PTP_RANGE], 0);
		break;
	}
	img_free(img);
}
END_TEST

START_TEST(hostile_one_list_holds_every_hment)
{
	struct image *img = rich_image(false);
	uint64_t pfn, prev = 0;
	struct page *pg = first_listed_page(img, &pfn);
	struct seen s;

	/* chain every hment slot of the hment pages into pfn's list */
	for (uint64_t p = img->next_pfn; p-- > img->first_managed;) {
		if (img_page(img, p)->p_kind != PG_KERNEL)
			continue;
		for (unsigned k = MM_PAGE_SIZE / sizeof(struct hment); k-- > 0;) {
			hment_ref_t ref = (hment_ref_t)(((p << MM_PAGE_SHIFT) + k * sizeof(struct hment)) >>
							 HMENT_REF_SHIFT);

			img_hment(img, ref)->hm_next = (hment_ref_t)prev;
			prev = ref;
		}
	}
	pg->p_mapping = prev;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_RM_SHARE] + s.per_id[INV_RM_LINKS], 0);
	img_free(img);
}
END_TEST

START_TEST(hostile_cached_page_in_use)
{
	struct image *img = rich_image(false);
	struct ptp_cache *pc = img_va(img, img->sym.segtab_ptp_cache);
	uint64_t cached = (pc->pc_head - DIRECT_MAP_BASE - img->page_array_pa) / sizeof(struct page);
	uint64_t a = img_hat(img, img_kas(img))->h_next, top = img_hat(img, a)->h_top_pa;
	uint64_t *pml4 = img_pa(img, top);
	struct seen s;

	pml4[200] = (cached << MM_PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
	img_page(img, top >> MM_PAGE_SHIFT)->p_valid++;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PT_PTP_OWNER], 1);
	ck_assert(seen_has(&s, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, cached));
	ck_assert_uint_eq(s.parsed, 2);
	img_free(img);
}
END_TEST

/* A steal index whose size or arrays are garbage: one RM_LISTED each, nothing read out of bounds. */
START_TEST(hostile_steal_index)
{
	struct image *img = rich_image(false);
	struct hment_listed *l = img_va(img, img->sym.hment_listed), saved = *l;
	struct seen s;

	l->npages = UINT64_MAX;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_RM_LISTED], 1);
	ck_assert_uint_eq(s.returned, 1);
	*l = saved;
	l->level[0] = 0xdead000000000000ull;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_RM_LISTED], 1);
	*l = saved;
	l->level[LISTED_LEVELS - 1] = DIRECT_MAP_BASE + img->ram_size - 2;   /* the words run past RAM */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_RM_LISTED], 1);
	ck_assert_uint_eq(s.returned, 1);
	for (unsigned k = 0; k < 2; k++) {   /* the 2 MiB counts: unmapped, then running past RAM */
		*l = saved;
		l->large = k == 0 ? 0xdead000000000000ull : DIRECT_MAP_BASE + img->ram_size - 6;
		run_check(&img->mem, &img->sym, &s);
		ck_assert_uint_eq(s.per_id[INV_RM_LISTED], 1);
		ck_assert_uint_eq(s.returned, 1);
	}
	img_free(img);
}
END_TEST

/* The steal index's 2 MiB counts against the tables: each group that counts wrong is one RM_LISTED at its first pfn. */
START_TEST(large_counts_follow_the_tables)
{
	struct image *img = rich_image(false);
	const struct hment_listed *l = img_va(img, img->sym.hment_listed);
	uint32_t *count = img_va(img, l->large);
	uint64_t group = UINT64_MAX;
	struct seen s;

	for (uint64_t g = 0; g < listed_large_groups(img->npages); g++)
		if (count[g] != 0)
			group = g;
	ck_assert_uint_eq(count[group], 2);   /* rich_image maps its 2 MiB page twice */
	expect_clean(&img->mem, &img->sym, "rich image");
	count[group]--;
	count[0]++;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_RM_LISTED], 2);
	ck_assert_uint_eq(s.returned, 2);
	ck_assert(seen_has(&s, INV_RM_LISTED, REPORT_NONE, REPORT_NONE, group << 9));
	ck_assert(seen_has(&s, INV_RM_LISTED, REPORT_NONE, REPORT_NONE, 0));
	img_free(img);
}
END_TEST

START_TEST(hostile_inject_on_garbage)
{
	struct image *img = rich_image(false);
	uint64_t pa, len;

	rng_state = 0xfeedull + (uint64_t)_i;
	metadata_range(img, (unsigned)_i, &pa, &len);
	scribble(img, pa, len / 2);
	for (unsigned id = 0; id < INV_COUNT; id++) {
		struct inject_undo undo;
		char what[256];
		int rc = inject_plant(&img->mem, &img->sym, id, &undo, what, sizeof(what));

		ck_assert_int_ge(rc, -1);
		ck_assert_int_le(rc, 1);
		if (rc == 0)
			ck_assert(inject_undo(&img->mem, &undo));
		else
			ck_assert_uint_eq(undo.n, 0);
	}
	expect_survives(img, false, "garbage after injections");
	img_free(img);
}
END_TEST

/* ---- translation and reserved bits ----------------------------------------------------- */

START_TEST(reader_translates_like_the_mmu)
{
	struct image *img = rich_image(false);
	uint64_t a = img_hat(img, img_kas(img))->h_next, pa, word = 0;
	struct mem_reader *rd = malloc(sizeof(*rd));

	reader_init(rd, &img->mem);
	ck_assert(reader_translate(rd, KERNEL_BASE + 0x201234, &pa));     /* image: no CR3 needed */
	ck_assert_uint_eq(pa, 0x201234);
	ck_assert(!reader_translate(rd, DIRECT_MAP_BASE + 0x5000, &pa));  /* needs the tables */
	reader_set_cr3(rd, img->kas_top_pa);
	ck_assert(reader_translate(rd, DIRECT_MAP_BASE + 0x3ff5678, &pa));
	ck_assert_uint_eq(pa, 0x3ff5678);
	ck_assert(!reader_translate(rd, DIRECT_MAP_BASE + IMG_RAM, &pa));  /* past the direct map */
	ck_assert(!reader_translate(rd, 0x400000, &pa));                  /* user half of hat_kas */
	ck_assert(!reader_translate(rd, 0x0000800000000000ull, &pa));     /* non-canonical */
	/* a read crossing a 4 KiB boundary */
	memcpy(img_pa(img, 0x300ffc), &(uint64_t){ 0x1122334455667788ull }, 8);
	ck_assert(reader_read_u64_va(rd, DIRECT_MAP_BASE + 0x300ffc, &word));
	ck_assert_uint_eq(word, 0x1122334455667788ull);
	ck_assert(!reader_read_pa(rd, IMG_RAM - 4, &word, 8));
	ck_assert(!reader_read_pa(rd, UINT64_MAX - 3, &word, 8));
	/* a user space's CR3 works too (the newest space, first on hat_list, maps this) */
	reader_set_cr3(rd, img_hat(img, a)->h_top_pa);
	ck_assert(reader_translate(rd, 0x7f0000000000ull, &pa));
	free(rd);
	img_free(img);
}
END_TEST

START_TEST(reserved_bits_follow_maxphyaddr)
{
	struct image *img = rich_image(false);
	uint64_t a = img_hat(img, img_kas(img))->h_next;
	uint64_t *pte;
	struct seen s;

	img->mem.maxphyaddr = 36;
	expect_clean(&img->mem, &img->sym, "MAXPHYADDR 36");
	pte = img_pte(img, a, 0x7f0000000000ull, 1);   /* the newest space maps a shared page there */
	ck_assert_ptr_nonnull(pte);
	*pte |= 1ull << 40;
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_gt(s.per_id[INV_PT_RSVD], 0);
	img->mem.maxphyaddr = 52;   /* bit 40 is an address bit now: a frame outside RAM, not tracked */
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.per_id[INV_PT_RSVD], 0);
	ck_assert_uint_gt(s.per_id[INV_RM_STALE], 0);
	img_free(img);
}
END_TEST

START_TEST(kernel_half_accessed_bit_is_not_a_difference)
{
	struct image *img = rich_image(false);
	uint64_t a = img_hat(img, img_kas(img))->h_next;
	uint64_t *pml4 = img_pa(img, img_hat(img, a)->h_top_pa);

	pml4[MM_PML4_KERNEL] |= PTE_A;   /* the CPU walked the direct map through this space */
	expect_clean(&img->mem, &img->sym, "A bit in a kernel-half copy");
	img_free(img);
}
END_TEST

/* ---- symbols ------------------------------------------------------------------------------ */

START_TEST(symbols_from_the_guest_image)
{
	char err[256], missing[128] = "";
	struct elf_symbols *syms = elf_symbols_open(guest_elf_path, err, sizeof(err));
	struct mm_symbols sym;

	ck_assert_msg(syms != NULL, "%s", err);
	ck_assert_msg(mm_symbols_from_elf(syms, &sym, missing, sizeof(missing)), "missing %s", missing);
	ck_assert_uint_ge(sym.hat_kas, KERNEL_BASE);
	ck_assert_uint_ge(sym.page_array, KERNEL_BASE);
	ck_assert_uint_ne(sym.hment_hash, sym.hment_reserve);
	elf_symbols_close(syms);
}
END_TEST

/* An ELF whose symbol table holds the first n MM symbols; size_of_second overrides page_count's size. */
static struct elf_symbols *partial_symbols(unsigned n, uint64_t size_of_second)
{
	static const char *const names[] = {
		MM_SYM_PAGE_ARRAY, MM_SYM_PAGE_COUNT, MM_SYM_FIRST_MANAGED, MM_SYM_HMENT_HASH,
		MM_SYM_HASH_LOCKS, MM_SYM_MLIST_LOCKS, MM_SYM_RESERVE, MM_SYM_HAT_KAS,
	};
	static const uint64_t sizes[] = { 8, 8, 8, sizeof(struct hment_hash),
					  HMENT_HASH_NLOCK * sizeof(struct hment_hash_stripe),
					  HMENT_MLIST_NLOCK * sizeof(struct mm_lock_line),
					  sizeof(struct hment_reserve), sizeof(struct hat) };
	char path[] = "/tmp/checker_syms_XXXXXX", err[256];
	struct eb_image *img = calloc(1, sizeof(*img));
	struct elf_symbols *syms;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	eb_init(img);
	for (unsigned i = 0; i < n && i < EB_MAX_SYMS; i++)
		eb_add_sym(img, (struct eb_sym){ .name = names[i], .value = KERNEL_BASE + 0x1000 * i,
						 .size = i == 1 ? size_of_second : sizes[i] });
	ck_assert_int_eq(eb_write(img, path), 0);
	syms = elf_symbols_open(path, err, sizeof(err));
	ck_assert_msg(syms != NULL, "%s", err);
	unlink(path);
	free(img);
	return syms;
}

START_TEST(symbols_missing_or_misfit_are_named)
{
	struct elf_symbols *syms = partial_symbols(8, 8);
	struct mm_symbols sym;
	char missing[128];

	ck_assert(!mm_symbols_from_elf(syms, &sym, missing, sizeof(missing)));
	ck_assert_str_eq(missing, MM_SYM_HAT_LIST);
	elf_symbols_close(syms);
	syms = partial_symbols(8, 4);
	ck_assert(!mm_symbols_from_elf(syms, &sym, missing, sizeof(missing)));
	ck_assert_ptr_nonnull(strstr(missing, MM_SYM_PAGE_COUNT));
	ck_assert_ptr_nonnull(strstr(missing, "4 bytes"));
	elf_symbols_close(syms);
	syms = partial_symbols(0, 8);
	ck_assert(!mm_symbols_from_elf(syms, &sym, missing, sizeof(missing)));
	ck_assert_str_eq(missing, MM_SYM_PAGE_ARRAY);
	elf_symbols_close(syms);
}
END_TEST

/* ---- throughput (printed, not asserted: benchmarks own performance) ------------------------ */

START_TEST(throughput_is_printed)
{
	struct image *img = img_new(512ull << 20, false);
	uint64_t sp[4], priv, shared;
	struct seen s;

	for (unsigned i = 0; i < 4; i++)
		sp[i] = img_hat_create(img);
	priv = img_alloc_user(img, 32768);
	shared = img_alloc_user(img, 16384);
	for (unsigned i = 0; i < 32768; i++)
		img_map(img, sp[i % 4], 0x10000000ull + (uint64_t)(i / 4) * MM_PAGE_SIZE, priv + i, false);
	for (unsigned k = 0; k < 4; k++)
		for (unsigned i = 0; i < 16384; i++)
			img_map(img, sp[k], 0x400000000ull + (uint64_t)i * MM_PAGE_SIZE, shared + i, false);
	run_check(&img->mem, &img->sym, &s);
	ck_assert_uint_eq(s.returned, 0);
	ck_assert_uint_eq(s.stats.mappings, 32768 + 4 * 16384);
	printf("checker: %" PRIu64 " mappings (%" PRIu64 " listed) in %.2f ms: %.1f M mappings/s\n",
	       s.stats.mappings, s.stats.hments, s.ms,
	       (double)s.stats.mappings / s.ms / 1e3);
	img_free(img);
}
END_TEST

static Suite *checker_suite(void)
{
	Suite *s = suite_create("checker");
	TCase *healthy = tcase_create("healthy"), *inject = tcase_create("inject");
	TCase *hostile = tcase_create("hostile"), *misc = tcase_create("reader_symbols");

	tcase_set_timeout(healthy, 120);
	tcase_add_test(healthy, healthy_through_page_tables);
	tcase_add_test(healthy, healthy_with_translation_override);
	tcase_add_test(healthy, healthy_through_read_phys_only);
	tcase_add_test(healthy, healthy_kernel_only);
	tcase_add_loop_test(healthy, healthy_hosted_mm, 0, 4);
	tcase_add_test(healthy, hosted_cpu_lists_checked);
	tcase_add_test(healthy, hosted_object_on_two_lists);
	tcase_add_test(healthy, hosted_cpu_lists_sharing_objects);
	tcase_add_test(healthy, stats_reach_the_report);
	tcase_add_test(healthy, throughput_is_printed);
	suite_add_tcase(s, healthy);

	tcase_set_timeout(inject, 120);
	tcase_add_loop_test(inject, inject_each_synthetic, 0, INV_COUNT);
	tcase_add_loop_test(inject, inject_each_hosted_mm, 0, INV_COUNT);
	tcase_add_test(inject, inject_undo_restores_every_byte);
	tcase_add_loop_test(inject, inject_verify_each, 0, INV_COUNT);
	tcase_add_test(inject, inject_verify_compares_the_planted_place);
	tcase_add_test(inject, shootdown_covering_too_few_pages);
	tcase_add_test(inject, unload_freeing_tables_flushes_all);
	tcase_add_test(inject, racing_cpus_explain_a_missing_flush);
	tcase_add_test(inject, racing_cpus_explain_an_empty_table);
	tcase_add_test(inject, dup_copying_too_few);
	tcase_add_test(inject, mapping_count_answers);
	tcase_add_test(inject, dirty_without_accessed);
	tcase_add_test(inject, large_free_gives_back_the_block);
	tcase_add_test(inject, ordinary_pages_in_the_reserve);
	tcase_add_test(inject, cache_over_its_maximum);
	tcase_add_test(inject, walk_hint_names_an_own_table);
	tcase_add_test(inject, leak_is_judged_on_whole_counts);
	tcase_add_test(inject, image_cpu_list_checked);
	tcase_add_test(inject, free_objects_must_be_reachable);
	tcase_add_test(inject, cpu_sets_match_loaded_spaces);
	tcase_add_test(inject, dropped_log_records_are_reported_once);
	tcase_add_test(inject, log_lanes_hold_each_record_once);
	tcase_add_test(inject, inject_partitions_cover_the_catalogue);
	tcase_add_test(inject, inject_without_target_changes_nothing);
	tcase_add_test(inject, inject_on_kernel_only_state);
	tcase_add_test(inject, inject_refuses_read_only_memory_and_bad_ids);
	suite_add_tcase(s, inject);

	tcase_set_timeout(hostile, 300);
	tcase_add_loop_test(hostile, hostile_random_ram, 0, 4);
	tcase_add_loop_test(hostile, hostile_random_metadata, 0, 10);
	tcase_add_loop_test(hostile, hostile_sparse_word_flips, 0, 16);
	tcase_add_test(hostile, hostile_cyclic_structures);
	tcase_add_test(hostile, hostile_counts_at_their_maximum);
	tcase_add_test(hostile, hash_stripes_count_their_own_buckets);
	tcase_add_test(hostile, short_list_counts_add_up);
	tcase_add_test(hostile, long_lists_must_be_hashed);
	tcase_add_test(hostile, hostile_table_loops);
	tcase_add_loop_test(hostile, hostile_pointers_outside_ram, 0, 4);
	tcase_add_test(hostile, hostile_one_list_holds_every_hment);
	tcase_add_test(hostile, hostile_cached_page_in_use);
	tcase_add_test(hostile, hostile_steal_index);
	tcase_add_test(healthy, large_counts_follow_the_tables);
	tcase_add_loop_test(hostile, hostile_inject_on_garbage, 0, 5);
	suite_add_tcase(s, hostile);

	tcase_add_test(misc, reader_translates_like_the_mmu);
	tcase_add_test(misc, reserved_bits_follow_maxphyaddr);
	tcase_add_test(misc, kernel_half_accessed_bit_is_not_a_difference);
	tcase_add_test(misc, symbols_from_the_guest_image);
	tcase_add_test(misc, symbols_missing_or_misfit_are_named);
	suite_add_tcase(s, misc);
	return s;
}

int main(int argc, char **argv)
{
	guest_elf_path = argc > 1 ? argv[1] : "guest.elf";
	return run_suite(checker_suite());
}
