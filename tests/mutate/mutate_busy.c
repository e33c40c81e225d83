/* SPDX-License-Identifier: BSD-2-Clause */
/* A table held busy, as another CPU's memload holds it (segtab.h), staged on the driver's one CPU: steals skip its mappings, prunes leave it. */
#include <inttypes.h>

#include "mutate_model.h"
#include "segtab.h"

#define BUSY_LOADS 6                     /* loads elsewhere while the table is busy: steals, at the cap */
#define BUSY_PRUNE_VA UINT64_C(0x0000004000000000)   /* a 1 GiB region no slot maps: new, empty tables */

/* A live space with a 4 KiB mapping in a regular region's table; false when none has one. */
static bool busy_target(const struct model *m, unsigned *sp, unsigned *regionp)
{
	for (unsigned s = 0; s < m->nspaces; s++)
		for (unsigned k = 0; k < MD_REGULAR && m->sp[s].h != NULL; k++)
			if (m->sp[s].small[k].on && !md_small_covered(m, s, k)) {
				*sp = s;
				*regionp = k / MD_REGION_SLOTS;
				return true;
			}
	return false;
}

/* Loads, into spaces other than s and outside region r, pages other mappings already hold. */
static void load_elsewhere(struct model *m, unsigned s, unsigned r)
{
	for (unsigned n = 0, o = 0; n < BUSY_LOADS; n++) {
		unsigned k = ((r + 1 + n % (MD_REGIONS - 1)) % MD_REGIONS) * MD_REGION_SLOTS + n;
		uint64_t pfn = m->pool[n % m->npool]->p_pagenum;

		for (unsigned i = 0; i < m->nspaces; i++) {
			o = (s + 1 + n + i) % m->nspaces;
			if (o != s && m->sp[o].h != NULL)
				break;
		}
		if (o == s || m->sp[o].h == NULL)
			return;
		md_load_small(m, o, k, pfn, HAT_READ | HAT_WRITE | HAT_USER | md_frame_cache(m, pfn));
	}
}

/*
 * Space s's table of region r held busy under s's lock, as hat_memload
 * holds the table it fills while it allocates an hment; meanwhile loads
 * into other spaces steal (the hment cache at its cap). None may take a
 * mapping from the busy table.
 */
void md_busy_steal(struct model *m)
{
	unsigned s, r, level = 1;
	bool was[MD_REGION_SLOTS];
	page_t *ptp;
	struct hat *h;

	if (!busy_target(m, &s, &r))
		return;
	h = m->sp[s].h;
	mm_lock_enter(&h->h_lock);
	if (segtab_walk(h, md_small_va(r * MD_REGION_SLOTS), &level, &ptp) == NULL || level != 1) {
		mm_lock_exit(&h->h_lock);
		return;
	}
	ptp_busy_hold(ptp);
	for (unsigned i = 0; i < MD_REGION_SLOTS; i++)
		was[i] = ptp_table(ptp)[MM_VA_INDEX(md_small_va(r * MD_REGION_SLOTS + i), 1)] & PTE_P;
	load_elsewhere(m, s, r);
	for (unsigned i = 0; i < MD_REGION_SLOTS; i++)
		if (was[i] && !(ptp_table(ptp)[MM_VA_INDEX(md_small_va(r * MD_REGION_SLOTS + i), 1)] & PTE_P))
			md_finding(m, "steal", "space %u va 0x%" PRIx64 ": stolen from a table held busy", s,
				   md_small_va(r * MD_REGION_SLOTS + i));
	ptp_busy_release(ptp);
	mm_lock_exit(&h->h_lock);
}

/*
 * A new, empty table reserved and held busy under the space's lock, as
 * hat_memload holds it before its leaf is in: a prune over it must leave
 * it (segtab.h). Released, the next prune takes it.
 */
void md_busy_prune(struct model *m)
{
	unsigned s, level = 1;
	page_t *ptp, *now = NULL;
	struct hat *h;

	for (s = 0; s < m->nspaces && m->sp[s].h == NULL; s++)
		;
	if (s == m->nspaces)
		return;
	h = m->sp[s].h;
	mm_lock_enter(&h->h_lock);
	if (segtab_reserve(h, BUSY_PRUNE_VA, 1, &ptp) != NULL) {
		ptp_busy_hold(ptp);
		segtab_free_list(segtab_prune(h, BUSY_PRUNE_VA, BUSY_PRUNE_VA + MM_PAGE_SIZE));
		if (segtab_walk(h, BUSY_PRUNE_VA, &level, &now) == NULL || now != ptp)
			md_finding(m, "prune", "space %u: the empty table at 0x%" PRIx64
				   " held busy was pruned", s, BUSY_PRUNE_VA);
		else
			ptp_busy_release(ptp);
	}
	segtab_free_list(segtab_prune(h, BUSY_PRUNE_VA, BUSY_PRUNE_VA + MM_PAGE_SIZE));
	mm_lock_exit(&h->h_lock);
}
