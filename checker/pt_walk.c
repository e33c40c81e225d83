/* SPDX-License-Identifier: BSD-2-Clause */
/* Walks x86-64 4-level page tables in guest RAM; every table is range-checked, every walk bounded. */
#include "pt_walk.h"

#include <string.h>

#define LINEAR_MASK      ((1ull << X86_VA_BITS) - 1)
#define HIGH_HALF_LINEAR (1ull << (X86_VA_BITS - 1))     /* first linear address of the upper half */
#define ENTRY_ADDR_LOW   12
#define BITS(lo, hi)     ((((hi) >= 63 ? 0 : 1ull << ((hi) + 1)) - 1) & ~((1ull << (lo)) - 1))

/* pt_config with its defaults applied and its masks precomputed. */
struct cpu_mode {
	uint64_t addr_mask;     /* frame-address bits of an entry: 12 .. MAXPHYADDR-1 */
	uint64_t reserved;      /* bits reserved at every level */
	bool nxe;
	uint64_t max_entries;
};

enum entry_kind { ENTRY_ABSENT, ENTRY_BAD, ENTRY_LEAF, ENTRY_TABLE };

static void cpu_mode_init(struct cpu_mode *m, const struct pt_config *cfg)
{
	unsigned maxphy = cfg ? cfg->maxphyaddr : 0;

	if (maxphy < 32 || maxphy > PT_DEFAULT_MAXPHYADDR)
		maxphy = PT_DEFAULT_MAXPHYADDR;
	m->addr_mask = BITS(ENTRY_ADDR_LOW, maxphy - 1);
	m->reserved = maxphy < 52 ? BITS(maxphy, 51) : 0;
	m->nxe = !(cfg && cfg->nxe_off);
	if (!m->nxe)
		m->reserved |= PTE_NX;
	m->max_entries = cfg && cfg->max_entries ? cfg->max_entries : PT_DEFAULT_MAX_ENTRIES;
}

const char *pt_error_string(enum pt_error err)
{
	switch (err) {
	case PT_OK:               return "ok";
	case PT_ERR_NONCANONICAL: return "non-canonical address";
	case PT_ERR_NOT_PRESENT:  return "not present";
	case PT_ERR_TABLE_RANGE:  return "table outside guest RAM";
	case PT_ERR_RESERVED:     return "reserved bit set";
	case PT_ERR_LARGE_ALIGN:  return "large page frame not aligned";
	}
	return "unknown error";
}

const char *pt_level_name(unsigned level)
{
	static const char *const names[] = { "?", "pte", "pmd", "pud", "pgd", "cr3" };

	return level <= PT_LEVEL_CR3 ? names[level] : "?";
}

static bool is_leaf(unsigned level, uint64_t e)
{
	return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/*
 * Sorts one entry; for ENTRY_BAD sets *error and *bad_bits. Bit 12 of a
 * large leaf is PAT, so only bits 13 .. size-1 must be clear there.
 */
static enum entry_kind classify(const struct cpu_mode *m, unsigned level, uint64_t e,
				enum pt_error *error, uint64_t *bad_bits)
{
	uint64_t reserved = m->reserved | (level == 4 ? PTE_PS : 0);
	uint64_t misalign = 0;

	if (!(e & PTE_P))
		return ENTRY_ABSENT;
	if (level != 1 && is_leaf(level, e))
		misalign = BITS(13, 12 + 9 * (level - 1) - 1);
	*bad_bits = e & reserved;
	if (*bad_bits) {
		*error = PT_ERR_RESERVED;
		return ENTRY_BAD;
	}
	*bad_bits = e & misalign;
	if (*bad_bits) {
		*error = PT_ERR_LARGE_ALIGN;
		return ENTRY_BAD;
	}
	return is_leaf(level, e) ? ENTRY_LEAF : ENTRY_TABLE;
}

/* Effective flags after passing through entry E: RW and US AND together, NX ORs. */
static uint32_t accumulate(const struct cpu_mode *m, uint32_t flags, uint64_t e)
{
	if (!(e & PTE_W))
		flags &= ~PT_F_WRITABLE;
	if (!(e & PTE_U))
		flags &= ~PT_F_USER;
	if (m->nxe && (e & PTE_NX))
		flags |= PT_F_NX;
	return flags;
}

static void make_leaf(const struct cpu_mode *m, const struct pt_entry_ref *ref, uint32_t flags,
		      struct pt_leaf *leaf)
{
	leaf->entry = *ref;
	leaf->size = mm_level_size(ref->level);
	leaf->pa = ref->value & m->addr_mask & ~(leaf->size - 1);
	flags |= PT_F_PRESENT;
	if (ref->level > 1)
		flags |= PT_F_LARGE;
	if (ref->value & PTE_G)
		flags |= PT_F_GLOBAL;
	if (ref->value & PTE_A)
		flags |= PT_F_ACCESSED;
	if (ref->value & PTE_D)
		flags |= PT_F_DIRTY;
	leaf->flags = flags;
}

/* Reads entry INDEX of the table at GPA, which the caller has range-checked. */
static uint64_t load_entry(const uint8_t *table, unsigned index)
{
	uint64_t e;

	memcpy(&e, table + 8u * index, sizeof(e));
	return e;
}

/* Host pointer to the 4 KiB table at GPA, or NULL when it is not all inside RAM. */
static const uint8_t *map_table(const struct guest_mem *gm, uint64_t gpa)
{
	return guest_mem_ptr(gm, gpa, PT_SIZE_4K);
}

static void set_fault(struct pt_fault *f, const struct pt_entry_ref *ref, enum pt_error error,
		      uint64_t bad_bits)
{
	f->entry = *ref;
	f->error = error;
	f->bad_bits = bad_bits;
}

/* Checks CR3 and maps the PML4; NULL with *fault set when CR3 is unusable. */
static const uint8_t *map_root(const struct guest_mem *gm, const struct cpu_mode *m, uint64_t cr3,
			       uint64_t va, struct pt_fault *fault)
{
	struct pt_entry_ref ref = { .level = PT_LEVEL_CR3, .value = cr3, .va = va };
	uint64_t bad = cr3 & m->reserved & ~PTE_NX;
	const uint8_t *root;

	if (bad) {
		set_fault(fault, &ref, PT_ERR_RESERVED, bad);
		return NULL;
	}
	root = map_table(gm, cr3 & m->addr_mask);
	if (!root)
		set_fault(fault, &ref, PT_ERR_TABLE_RANGE, 0);
	return root;
}

enum pt_error pt_translate(const struct guest_mem *gm, const struct pt_config *cfg, uint64_t cr3,
			   uint64_t va, struct pt_translation *out)
{
	struct cpu_mode m;
	uint32_t flags = PT_F_WRITABLE | PT_F_USER;
	const uint8_t *table;

	memset(out, 0, sizeof(*out));
	cpu_mode_init(&m, cfg);
	if (!x86_va_canonical(va)) {
		out->fault.entry = (struct pt_entry_ref){ .level = PT_LEVEL_CR3, .value = cr3, .va = va };
		out->fault.error = PT_ERR_NONCANONICAL;
		return PT_ERR_NONCANONICAL;
	}
	table = map_root(gm, &m, cr3, va, &out->fault);
	for (unsigned level = PT_LEVELS; table; level--) {
		uint64_t table_gpa = (uint64_t)(table - gm->base);
		unsigned index = MM_VA_INDEX(va, level);
		struct pt_entry_ref ref = {
			.level = level, .gpa = table_gpa + 8u * index,
			.value = load_entry(table, index), .va = va & ~(mm_level_size(level) - 1),
		};
		enum pt_error error = PT_OK;
		uint64_t bad = 0;

		switch (classify(&m, level, ref.value, &error, &bad)) {
		case ENTRY_ABSENT:
			set_fault(&out->fault, &ref, PT_ERR_NOT_PRESENT, 0);
			return PT_ERR_NOT_PRESENT;
		case ENTRY_BAD:
			set_fault(&out->fault, &ref, error, bad);
			return error;
		case ENTRY_LEAF:
			make_leaf(&m, &ref, accumulate(&m, flags, ref.value), &out->leaf);
			out->pa = out->leaf.pa + (va & (out->leaf.size - 1));
			return PT_OK;
		case ENTRY_TABLE:
			flags = accumulate(&m, flags, ref.value);
			table = map_table(gm, ref.value & m.addr_mask);
			if (!table)
				set_fault(&out->fault, &ref, PT_ERR_TABLE_RANGE, 0);
			break;
		}
	}
	return out->fault.error;
}

/* State of one pt_walk; addresses inside are 48-bit linear (not sign-extended). */
struct walker {
	const struct guest_mem *gm;
	struct cpu_mode mode;
	const struct pt_walk_ops *ops;
	void *ctx;
	uint64_t first, last;           /* the range, linear, inclusive */
	struct pt_walk_stats stats;
	enum pt_walk_result result;
};

static bool walker_done(const struct walker *w)
{
	return w->result != PT_WALK_DONE;
}

static void report_fault(struct walker *w, const struct pt_entry_ref *ref, enum pt_error error,
			 uint64_t bad_bits)
{
	struct pt_fault f;

	w->stats.faults++;
	set_fault(&f, ref, error, bad_bits);
	if (w->ops->fault && w->ops->fault(w->ctx, &f))
		w->result = PT_WALK_STOPPED;
}

static void report_leaf(struct walker *w, const struct pt_entry_ref *ref, uint32_t flags)
{
	struct pt_leaf leaf;

	w->stats.leaves++;
	make_leaf(&w->mode, ref, flags, &leaf);
	if (w->ops->leaf && w->ops->leaf(w->ctx, &leaf))
		w->result = PT_WALK_STOPPED;
}

/* Tells ops->table about a table page; false when the walk must stop. */
static bool announce_table(struct walker *w, unsigned level, uint64_t gpa,
			   const struct pt_entry_ref *via)
{
	w->stats.tables++;
	if (w->ops->table && w->ops->table(w->ctx, level, gpa, via)) {
		w->result = PT_WALK_STOPPED;
		return false;
	}
	return true;
}

static void walk_table(struct walker *w, unsigned level, const uint8_t *table, uint64_t base,
		       uint32_t flags);

/* Handles one entry of a table at LEVEL, covering linear addresses from BASE. */
static void walk_entry(struct walker *w, unsigned level, const uint8_t *table, unsigned index,
		       uint64_t base, uint32_t flags)
{
	struct pt_entry_ref ref = {
		.level = level, .gpa = (uint64_t)(table - w->gm->base) + 8u * index,
		.value = load_entry(table, index), .va = x86_va_sign_extend(base),
	};
	enum pt_error error = PT_OK;
	uint64_t bad = 0, next_gpa;
	const uint8_t *next;

	switch (classify(&w->mode, level, ref.value, &error, &bad)) {
	case ENTRY_ABSENT:
		return;
	case ENTRY_BAD:
		report_fault(w, &ref, error, bad);
		return;
	case ENTRY_LEAF:
		report_leaf(w, &ref, accumulate(&w->mode, flags, ref.value));
		return;
	case ENTRY_TABLE:
		next_gpa = ref.value & w->mode.addr_mask;
		next = map_table(w->gm, next_gpa);
		if (!next)
			report_fault(w, &ref, PT_ERR_TABLE_RANGE, 0);
		else if (announce_table(w, level - 1, next_gpa, &ref))
			walk_table(w, level - 1, next, base, accumulate(&w->mode, flags, ref.value));
		return;
	}
}

/* Visits the entries of a table at LEVEL whose ranges meet [w->first, w->last]. */
static void walk_table(struct walker *w, unsigned level, const uint8_t *table, uint64_t base,
		       uint32_t flags)
{
	uint64_t span = mm_level_size(level);
	unsigned first = w->first > base ? (unsigned)((w->first - base) / span) : 0;
	uint64_t last_off = (w->last - base) / span;
	unsigned last = last_off < PT_ENTRIES ? (unsigned)last_off : PT_ENTRIES - 1;

	for (unsigned i = first; i <= last && !walker_done(w); i++) {
		if (w->stats.entries >= w->mode.max_entries) {
			w->result = PT_WALK_TRUNCATED;
			return;
		}
		w->stats.entries++;
		walk_entry(w, level, table, i, base + i * span, flags);
	}
}

/* Linear form of a canonical VA; a VA in the hole moves to the nearer edge in direction UP. */
static uint64_t to_linear(uint64_t va, bool up)
{
	if (x86_va_canonical(va))
		return va & LINEAR_MASK;
	return up ? HIGH_HALF_LINEAR : HIGH_HALF_LINEAR - 1;
}

enum pt_walk_result pt_walk(const struct guest_mem *gm, const struct pt_config *cfg, uint64_t cr3,
			    uint64_t va_start, uint64_t va_last, const struct pt_walk_ops *ops,
			    void *ctx, struct pt_walk_stats *stats)
{
	static const struct pt_walk_ops no_ops;
	struct walker w = { .gm = gm, .ops = ops ? ops : &no_ops, .ctx = ctx };
	struct pt_entry_ref via = { .level = PT_LEVEL_CR3, .value = cr3 };
	struct pt_fault fault;
	const uint8_t *root;

	cpu_mode_init(&w.mode, cfg);
	w.first = to_linear(va_start, true);
	w.last = to_linear(va_last, false);
	if (va_start <= va_last && w.first <= w.last) {
		root = map_root(gm, &w.mode, cr3, x86_va_sign_extend(w.first), &fault);
		if (!root)
			report_fault(&w, &fault.entry, fault.error, fault.bad_bits);
		else if (announce_table(&w, PT_LEVELS, cr3 & w.mode.addr_mask, &via))
			walk_table(&w, PT_LEVELS, root, 0, PT_F_WRITABLE | PT_F_USER);
	}
	if (stats)
		*stats = w.stats;
	return w.result;
}
