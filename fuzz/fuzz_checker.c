/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness: the checker over a healthy synthetic MM image with
 * fuzz-chosen bytes overwritten in its structures (page_t array, hments,
 * address spaces, hash buckets, page tables, the operation log and its
 * lane), restored after each run. The host's model follows the log: each
 * run appends records after a clean check, so the patched check reads
 * them (the lanes merged by number, then applied).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "hat_model.h"
#include "image.h"
#include "report.h"

#define FUZZ_RAM        (16ull << 20)   /* room for the 2 MiB page after the boot carving */
#define MAX_PATCHES     64
#define MAX_PATCH_LEN   16

struct patch {
	uint64_t pa;
	uint8_t len;
	uint8_t saved[MAX_PATCH_LEN];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small healthy MM: three spaces sharing pages, a list long enough for the hash, a 2 MiB page, reserve and cache. */
static struct image *build_image(void)
{
	struct image *img = img_new(FUZZ_RAM, false);
	uint64_t sp[3], pages;

	if (!img)
		abort();
	for (unsigned i = 0; i < 3; i++)
		sp[i] = img_hat_create(img);
	pages = img_alloc_user(img, 16);
	for (unsigned i = 0; i < 16; i++)
		for (unsigned s = 0; s <= i % 3; s++)
			img_map(img, sp[s], 0x40000000ull + i * 0x1000ull, pages + i, false);
	for (unsigned k = 0; k < HMENT_SHORT_LIST + 2; k++)   /* one list long enough for the hash */
		img_map(img, sp[2], 0x60000000ull + k * 0x1000ull, pages, false);
	img_map(img, sp[0], 0x80000000ull, img_alloc_large(img), true);
	img_reserve_fill(img, 4);
	img_cache_add(img, 2);
	img_cpu_list_take(img, 1);
	return img;
}

/* The PA a patch aims at: region selector first, so most patches land on MM structures. */
static uint64_t patch_target(const struct image *img, uint8_t region, uint32_t offset)
{
	switch (region % 10) {
	case 0:  return img->page_array_pa + offset % (img->npages * sizeof(struct page));
	case 1:  return img->hment_page_pa + offset % MM_PAGE_SIZE;
	case 2:  return img->hat_page_pa + offset % MM_PAGE_SIZE;
	case 3:  return img->buckets_pa + offset % (img->hash_size * 4ull);
	case 4:  return img->kas_top_pa + offset % (16 * MM_PAGE_SIZE);
	case 5:  return (uint64_t)((uint8_t *)img_va(img, img->sym.hment_hash_locks) - img->ram) +
			offset % (HMENT_HASH_NLOCK * sizeof(struct hment_hash_stripe));
	case 6:  return img->oplog_pa + offset % MM_PAGE_SIZE;
	case 7:  return (uint64_t)((uint8_t *)img_oplog((struct image *)img) - img->ram) +
			offset % sizeof(struct hat_oplog);
	case 8:  return (uint64_t)((uint8_t *)img_cpu_lists((struct image *)img) - img->ram) +
			offset % (HAT_MAX_CPUS * sizeof(struct objcache_cpu));
	default: return offset % img->ram_size;
	}
}

/* Applies patches from data; returns how many (their old bytes saved for undo). */
static unsigned apply_patches(struct image *img, const uint8_t *data, size_t size,
			      struct patch *p)
{
	unsigned n = 0;

	while (n < MAX_PATCHES && size >= 6) {
		uint32_t offset;
		memcpy(&offset, data + 1, 4);
		uint8_t len = 1 + data[5] % MAX_PATCH_LEN;
		uint64_t pa = patch_target(img, data[0], offset);
		data += 6;
		size -= 6;
		if (len > size)
			len = (uint8_t)size;
		if (len == 0 || pa + len > img->ram_size)
			break;
		p[n].pa = pa;
		p[n].len = len;
		memcpy(p[n].saved, img->ram + pa, len);
		memcpy(img->ram + pa, data, len);
		data += len;
		size -= len;
		n++;
	}
	return n;
}

/* A check of img into a report of its own (one per check: memory stays flat). */
static void check(struct image *img, FILE *sink)
{
	struct report *report = report_new(sink);

	if (!report)
		abort();
	checker_run(&img->mem, &img->sym, report, "fuzz", NULL);
	report_free(report);
}

/* Queries the model can judge, in the log after the clean check: what the patched check reads. */
static void log_queries(struct image *img)
{
	for (unsigned i = 0; i < 3; i++)   /* no page_t page is mapped: 0 is the right answer */
		img_log_op(img, (struct hat_op){ .o_kind = HOP_MAPCNT,
						 .o_pfn = (uint32_t)(img->page_array_pa >> MM_PAGE_SHIFT) + i });
}

/* As the guest after a checkpoint: the host has seen every record. */
static void log_drained(struct image *img)
{
	struct hat_oplog *log = img_oplog(img);
	struct hat_oplog_lane *lane = img_va(img, log->ol_ring);

	log->ol_drained = log->ol_next;
	lane->l_drained = lane->l_next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct image *img;
	static struct hat_model *model;
	static FILE *sink;
	struct patch patches[MAX_PATCHES];

	if (!img) {
		img = build_image();
		model = hat_model_new();
		sink = fopen("/dev/null", "w");
		if (!sink || !model)
			abort();
		checker_use_model(model);
	}
	check(img, sink);   /* in step with the log (or starting again after the last input's faults) */
	log_queries(img);
	unsigned n = apply_patches(img, data, size, patches);
	check(img, sink);
	while (n-- > 0)
		memcpy(img->ram + patches[n].pa, patches[n].saved, patches[n].len);
	log_drained(img);
	return 0;
}
