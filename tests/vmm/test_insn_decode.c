/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: telling INS/OUTS from a plain OUT at a hypercall exit, on bytes and through guest page tables. */
#include <check.h>
#include <string.h>

#include "guest_mem.h"
#include "insn_decode.h"
#include "run_vmm.h"

#define RAM_SIZE  (1u << 20)
#define CR3       0x1000ull
#define CODE_VA   0x400000ull   /* two 4 KiB pages mapped, the third not */
#define CODE_PA   0x10000ull
#define PTE_P_RW  0x3ull

static bool string_io(const uint8_t *code, size_t len)
{
	return insn_is_string_io(code, len);
}

START_TEST(all_four_opcodes)
{
	for (uint8_t op = 0x6c; op <= 0x6f; op++) {
		ck_assert(string_io(&op, 1));
		ck_assert(!insn_is_port_io(&op, 1));
	}
}
END_TEST

START_TEST(prefixes_and_rex)
{
	static const uint8_t rep_outsl[] = { 0xf3, 0x6f };
	static const uint8_t rep_outsw[] = { 0x66, 0xf3, 0x6f };
	static const uint8_t seg_rex_insb[] = { 0x65, 0x2e, 0x48, 0x6c };
	static const uint8_t every_prefix[] = { 0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26,
						0x64, 0x65, 0x4f, 0x6e };

	ck_assert(string_io(rep_outsl, sizeof(rep_outsl)));
	ck_assert(string_io(rep_outsw, sizeof(rep_outsw)));
	ck_assert(string_io(seg_rex_insb, sizeof(seg_rex_insb)));
	ck_assert(string_io(every_prefix, sizeof(every_prefix)));
}
END_TEST

START_TEST(plain_in_and_out_are_not_string_io)
{
	static const uint8_t plain[][3] = {
		{ 0xef }, { 0xee }, { 0xed }, { 0xec }, { 0xe7, 0x80 }, { 0xe6, 0x80 },
		{ 0xe5, 0x80 }, { 0xe4, 0x80 }, { 0x66, 0xef }, { 0x48, 0xef },
	};

	for (unsigned i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		ck_assert_msg(!string_io(plain[i], 3), "case %u", i);
		ck_assert_msg(insn_is_port_io(plain[i], 3), "case %u", i);
	}
}
END_TEST

START_TEST(truncated_or_overlong_input)
{
	uint8_t code[INSN_MAX_LEN + 1];

	ck_assert(!string_io(NULL, 0));
	ck_assert(!string_io((const uint8_t[]){ 0xf3, 0x6f }, 1));   /* ends before the opcode */
	ck_assert(!insn_is_port_io((const uint8_t[]){ 0x66 }, 1));
	memset(code, 0x66, sizeof(code));
	code[INSN_MAX_LEN - 1] = 0x6f;   /* 14 prefixes + opcode: the longest legal form */
	ck_assert(string_io(code, INSN_MAX_LEN));
	code[INSN_MAX_LEN - 1] = 0x66;
	code[INSN_MAX_LEN] = 0x6f;       /* 15 prefixes: no x86 CPU decodes that */
	ck_assert(!string_io(code, sizeof(code)));
}
END_TEST

START_TEST(non_io_opcodes)
{
	static const uint8_t others[][2] = { { 0x90 }, { 0xf4 }, { 0x6a, 0x01 }, { 0x70, 0x00 },
					     { 0x0f, 0x6f } };

	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ck_assert_msg(!string_io(others[i], 2), "case %u", i);
		ck_assert_msg(!insn_is_port_io(others[i], 2), "case %u", i);
	}
}
END_TEST

static struct guest_mem gm;

static void put_entry(uint64_t table, unsigned index, uint64_t value)
{
	ck_assert(guest_mem_write(&gm, table + index * 8ull, &value, sizeof(value)));
}

/* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000: CODE_VA's two pages at CODE_PA. */
static void setup(void)
{
	ck_assert_int_eq(guest_mem_map(&gm, RAM_SIZE), 0);
	put_entry(CR3, 0, 0x2000 | PTE_P_RW);
	put_entry(0x2000, 0, 0x3000 | PTE_P_RW);
	put_entry(0x3000, (unsigned)(CODE_VA >> 21), 0x4000 | PTE_P_RW);
	put_entry(0x4000, 0, CODE_PA | PTE_P_RW);
	put_entry(0x4000, 1, (CODE_PA + 0x1000) | PTE_P_RW);
}

static void teardown(void)
{
	guest_mem_unmap(&gm);
}

/* Places CODE at VA (inside the two mapped pages) and asks about an exit with RIP = VA + AT. */
static bool exit_at(uint64_t va, const uint8_t *code, size_t len, size_t at)
{
	ck_assert(guest_mem_write(&gm, CODE_PA + (va - CODE_VA), code, len));
	return insn_exit_was_string_io(&gm, CR3, va + at);
}

START_TEST(rip_at_the_instruction)
{
	static const uint8_t rep_outsl[] = { 0xf3, 0x6f, 0x90 };
	static const uint8_t out_after_6f[] = { 0xb0, 0x6f, 0xef, 0x90 };   /* mov $0x6f,%al; out */

	ck_assert(exit_at(CODE_VA + 0x100, rep_outsl, sizeof(rep_outsl), 0));
	ck_assert(!exit_at(CODE_VA + 0x200, out_after_6f, sizeof(out_after_6f), 2));
}
END_TEST

START_TEST(rip_past_the_instruction)
{
	static const uint8_t outsl_nop[] = { 0x6f, 0x90 };
	static const uint8_t out_nop[] = { 0xef, 0x90 };

	ck_assert(exit_at(CODE_VA + 0x100, outsl_nop, sizeof(outsl_nop), 1));
	ck_assert(!exit_at(CODE_VA + 0x200, out_nop, sizeof(out_nop), 1));
}
END_TEST

START_TEST(instruction_across_pages)
{
	static const uint8_t rep_outsl[] = { 0xf3, 0x6f };
	uint8_t buf[INSN_MAX_LEN];

	ck_assert(exit_at(CODE_VA + 0xfff, rep_outsl, sizeof(rep_outsl), 0));
	/* the third page is not mapped: a fetch stops at its start */
	ck_assert_uint_eq(insn_fetch(&gm, CR3, CODE_VA + 0x1ff8, buf, sizeof(buf)), 8);
	ck_assert_uint_eq(insn_fetch(&gm, CR3, CODE_VA + 0x2000, buf, sizeof(buf)), 0);
	ck_assert(!insn_exit_was_string_io(&gm, CR3, CODE_VA + 0x2000 + 0x10));
	ck_assert(!insn_exit_was_string_io(&gm, RAM_SIZE, CODE_VA));   /* CR3 outside RAM */
	/* RIP on the unmapped page right after a 0x6f byte: unreadable code is no evidence */
	static const uint8_t ends_in_6f[] = { 0x6f };
	ck_assert(!exit_at(CODE_VA + 0x1fff, ends_in_6f, 1, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("insn_decode");
	TCase *bytes = tcase_create("bytes"), *tables = tcase_create("tables");

	tcase_add_test(bytes, all_four_opcodes);
	tcase_add_test(bytes, prefixes_and_rex);
	tcase_add_test(bytes, plain_in_and_out_are_not_string_io);
	tcase_add_test(bytes, truncated_or_overlong_input);
	tcase_add_test(bytes, non_io_opcodes);
	suite_add_tcase(s, bytes);
	tcase_add_checked_fixture(tables, setup, teardown);
	tcase_add_test(tables, rip_at_the_instruction);
	tcase_add_test(tables, rip_past_the_instruction);
	tcase_add_test(tables, instruction_across_pages);
	suite_add_tcase(s, tables);
	return run_suite(s);
}
