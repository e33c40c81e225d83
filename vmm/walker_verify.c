/* SPDX-License-Identifier: BSD-2-Clause */
/* Compares pt_translate() with KVM_TRANSLATE on sampled addresses of the current address space. */
#include "walker_verify.h"

#include <inttypes.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "pt_walk.h"

#define MAX_LEAF_SAMPLES 256
#define UNMAPPED_SAMPLES 64

struct sampler {
	uint64_t va[MAX_LEAF_SAMPLES];
	unsigned n;
	uint64_t seen;
};

/* Keeps every leaf until the table is full, then every 2^k-th: spread over the whole space. */
static int sample_leaf(void *ctx, const struct pt_leaf *leaf)
{
	struct sampler *s = ctx;
	uint64_t stride = s->seen / MAX_LEAF_SAMPLES + 1;

	if (s->seen++ % stride == 0) {
		uint64_t va = leaf->entry.va + (leaf->size / 2 & ~0xfffull) + 0x123;
		s->va[s->n < MAX_LEAF_SAMPLES ? s->n++ : s->seen % MAX_LEAF_SAMPLES] = va;
	}
	return 0;
}

static void compare_one(int vcpu_fd, const struct guest_mem *gm, uint64_t va,
			struct walker_verdict *v, struct report *report)
{
	struct kvm_translation tr = { .linear_address = va };
	struct pt_translation mine;

	if (ioctl(vcpu_fd, KVM_TRANSLATE, &tr) < 0)
		return;
	bool ours_valid = pt_translate(gm, NULL, v->cr3, va, &mine) == PT_OK;
	v->sampled++;
	if (ours_valid == (tr.valid != 0) && (!ours_valid || mine.pa == tr.physical_address))
		return;
	v->mismatched++;
	report_violation(report, INV_PT_WALK_AGREE, REPORT_NONE, va, REPORT_NONE,
			 "cr3 0x%" PRIx64 ": host walker %s 0x%" PRIx64 ", KVM_TRANSLATE %s 0x%" PRIx64,
			 v->cr3, ours_valid ? "maps to" : "faults", ours_valid ? mine.pa : 0,
			 tr.valid ? "maps to" : "faults", (uint64_t)tr.physical_address);
}

void walker_verify(int vcpu_fd, const struct guest_mem *gm, struct report *report,
		   struct walker_verdict *v)
{
	struct kvm_sregs sregs;
	struct sampler s = { .n = 0 };
	struct pt_walk_ops ops = { .leaf = sample_leaf };

	*v = (struct walker_verdict){ 0 };
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	v->cr3 = sregs.cr3 & ~0xfffull;
	pt_walk(gm, NULL, v->cr3, 0, UINT64_MAX, &ops, &s, NULL);
	for (unsigned i = 0; i < s.n; i++)
		compare_one(vcpu_fd, gm, s.va[i], v, report);
	/* unmapped or odd addresses: both must fault alike */
	for (unsigned i = 0; i < UNMAPPED_SAMPLES; i++)
		compare_one(vcpu_fd, gm, x86_va_sign_extend((uint64_t)i * 0x0000020000345000ull), v,
			    report);
}
