/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: guest RAM's host pages: huge pages asked for, small ones where vmm writes boot structures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_mem.h"
#include "run_vmm.h"

#define MIB (1ull << 20)

/*
 * The VmFlags line of the /proc/self/smaps mapping that holds addr, in
 * flags (empty when none does). The kernel keeps "hg" (MADV_HUGEPAGE) and
 * "nh" (MADV_NOHUGEPAGE) there whether or not THP is enabled.
 */
static void vm_flags_at(const void *addr, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;

	ck_assert_ptr_nonnull(f);
	flags[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			inside = (unsigned long)addr >= lo && (unsigned long)addr < hi;
		else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
	char padded[8];

	snprintf(padded, sizeof(padded), " %s ", flag);
	return strstr(flags, padded) != NULL;
}

/*
 * The mapping at addr asks for huge pages (hg) or small ones (nh). On a
 * kernel built without THP madvise refuses both, and neither may show.
 */
static void expect_pages(const void *addr, bool huge)
{
	bool thp = access("/sys/kernel/mm/transparent_hugepage", F_OK) == 0;
	char flags[512];

	vm_flags_at(addr, flags, sizeof(flags));
	ck_assert_msg(has_flag(flags, "hg") == (thp && huge) && has_flag(flags, "nh") == (thp && !huge),
		      "%p: VmFlags:%s", addr, flags);
}

START_TEST(ram_asks_for_huge_pages)
{
	struct guest_mem gm = { 0 };

	ck_assert_int_eq(guest_mem_map(&gm, 8 * MIB), 0);
	expect_pages(gm.base, true);
	expect_pages(gm.base + 8 * MIB - 1, true);
	guest_mem_unmap(&gm);
}
END_TEST

/* The boot range becomes small pages; RAM above it keeps asking for huge ones. */
START_TEST(boot_range_gets_small_pages)
{
	struct guest_mem gm = { 0 };

	ck_assert_int_eq(guest_mem_map(&gm, 8 * MIB), 0);
	guest_mem_small_pages(&gm, 0, 2 * MIB);
	expect_pages(gm.base, false);
	expect_pages(gm.base + 2 * MIB - 1, false);
	expect_pages(gm.base + 2 * MIB, true);
	guest_mem_unmap(&gm);
}
END_TEST

/* A range past RAM (or wrapping) is refused quietly: nothing outside the mapping is touched. */
START_TEST(small_pages_outside_ram_is_ignored)
{
	struct guest_mem gm = { 0 };

	ck_assert_int_eq(guest_mem_map(&gm, 4 * MIB), 0);
	guest_mem_small_pages(&gm, 2 * MIB, 4 * MIB);
	guest_mem_small_pages(&gm, ~0ull - MIB, 2 * MIB);
	expect_pages(gm.base, true);
	expect_pages(gm.base + 3 * MIB, true);
	guest_mem_unmap(&gm);
}
END_TEST

static Suite *guest_mem_suite(void)
{
	Suite *s = suite_create("guest_mem");
	TCase *tc = tcase_create("pages");

	tcase_add_test(tc, ram_asks_for_huge_pages);
	tcase_add_test(tc, boot_range_gets_small_pages);
	tcase_add_test(tc, small_pages_outside_ram_is_ignored);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(guest_mem_suite());
}
