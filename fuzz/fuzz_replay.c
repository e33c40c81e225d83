/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the replay engine on the hosted MM, fed event sequences no recorder would write (what the guest gets from a hostile host), the checker with the host model on every drained log and at the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hat_model.h"
#include "hosted_check.h"
#include "hosted_platform.h"
#include "page.h"
#include "replay_hosted_seam.h"
#include "replay_int.h"

#define FUZZ_RAM     (8ull << 20)
#define FILES        4u
#define PIDS         4u
#define EVENT_BYTES  10u
#define MAX_EVENTS   400u
#define PAGE_LIMIT   96u      /* pages in use once the engine started: reclaim runs */
#define CHECK_EVERY  64u
#define P(n)         ((uint64_t)(n) * 4096)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct replay engine;   /* large: one, reused by every input */

/* Any violation is a finding: name it and abort. */
static void check_or_abort(void)
{
	char text[8192];

	if (hmm_clean(text, sizeof(text)))
		return;
	fprintf(stderr, "fuzz_replay: %s\n", text);
	abort();
}

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	check_or_abort();
}

/*
 * An address near one of three places (a binary's, the mmap area's, the
 * top of user space) so that events collide, pages apart or, with bit 5
 * of sel, 2 MiB apart (regions with missing tables in between); with
 * bit 7, the raw 8 bytes at raw: anything at all, as a hostile host
 * would send.
 */
static uint64_t pick_addr(uint8_t sel, uint8_t page, const uint8_t *raw)
{
	static const uint64_t bases[] = { 0x555555554000ull, 0x7f0000000000ull - P(64),
					  REPLAY_TASK_TOP - P(128) };
	uint64_t a;

	if (sel & 0x80) {
		memcpy(&a, raw, sizeof(a));
		return a;
	}
	a = bases[sel % 3] + P(page) * ((sel & 0x20) ? 512 : 1);
	return (sel & 0x40) ? a + (uint64_t)(page & 7) * 8 : a;
}

/* 1 to 64 pages, or with bit 6 as many 2 MiB runs. */
static uint64_t pick_len(uint8_t b)
{
	return P(1u + b % 64) * ((b & 0x40) ? 512 : 1);
}

/* One event from EVENT_BYTES bytes (d[9] holds the raw address's last byte: d[2..9]). */
static struct trace_event decode(const uint8_t *d)
{
	struct trace_event ev = {
		.te_kind = 1u + d[0] % TR_KIND_MAX,
		.te_pid = d[1] % PIDS,
		.te_addr = pick_addr(d[1], d[2], &d[2]),
		.te_len = pick_len(d[3]),
		.te_prot = (uint16_t)(d[4] & 7),
		.te_flags = (uint8_t)((d[4] >> 3) & 7),
		.te_file = (d[5] & 0x80) ? TR_FILE_NONE : d[5] % (FILES + 1),
		.te_offset = P(d[5] & 7),
		.te_fault = (uint8_t)(d[6] & (TR_FAULT_PRESENT | TR_FAULT_WRITE | TR_FAULT_EXEC)),
	};

	if (ev.te_flags & TR_MAP_ANON)
		ev.te_file = TR_FILE_NONE;
	switch (ev.te_kind) {
	case TR_FORK:
		ev.te_arg = d[7] % (PIDS + 1);
		if (!(d[4] & 0x80))   /* mostly a fork or a vfork, now and then unknown flags */
			ev.te_flags &= TR_FORK_VM;
		break;
	case TR_MREMAP:
		ev.te_arg = pick_addr(d[7], d[8], &d[2]);
		ev.te_len2 = (d[9] & 0x80) ? 0 : pick_len(d[9]);
		break;
	case TR_BRK:
		ev.te_arg = (d[7] & 1) ? pick_addr(d[1], d[8], &d[2]) : 0;
		break;
	default:
		break;
	}
	return ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hat_model *model;
	struct replay_config cfg = { .check_every = CHECK_EVERY, .files = FILES };

	if (model == NULL)
		model = hat_model_new();
	checker_use_model(model);
	mm_hosted_oplog_hook = check_or_abort;
	mm_hosted_boot(FUZZ_RAM);
	check_or_abort();   /* the model starts here: the next checks judge every logged operation */
	struct replay_seam seam = replay_hosted_seam(on_checkpoint, NULL);
	if (!replay_init(&engine, &seam, &cfg))
		abort();
	page_set_limit(page_ninuse() + PAGE_LIMIT);
	for (size_t at = 0; at + EVENT_BYTES <= size && at / EVENT_BYTES < MAX_EVENTS; at += EVENT_BYTES) {
		struct trace_event ev = decode(data + at);

		replay_event(&engine, &ev);
	}
	replay_finish(&engine);
	check_or_abort();
	if (engine.st.internal_errors != 0) {
		fprintf(stderr, "fuzz_replay: %llu accesses failed after their fault was resolved\n",
			(unsigned long long)engine.st.internal_errors);
		abort();
	}
	mm_hosted_shutdown();
	mm_hosted_oplog_hook = NULL;
	return 0;
}
