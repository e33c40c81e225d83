/* SPDX-License-Identifier: BSD-2-Clause */
/* Decodes just enough of the guest instruction behind a port-I/O exit to tell string I/O from a plain OUT. */
#include "insn_decode.h"

#include "pt_walk.h"

static bool is_prefix(uint8_t b)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf2: case 0xf3:
	case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
		return true;
	default:
		return b >= 0x40 && b <= 0x4f;   /* REX */
	}
}

/*
 * The opcode byte after the prefixes, or -1 when CODE ends first or the
 * prefixes alone fill the longest legal instruction.
 */
static int opcode_of(const uint8_t *code, size_t len)
{
	size_t i = 0;

	if (len > INSN_MAX_LEN)
		len = INSN_MAX_LEN;
	while (i < len && is_prefix(code[i]))
		i++;
	return i < len ? code[i] : -1;
}

bool insn_is_string_io(const uint8_t *code, size_t len)
{
	int op = opcode_of(code, len);

	return op >= 0x6c && op <= 0x6f;
}

bool insn_is_port_io(const uint8_t *code, size_t len)
{
	int op = opcode_of(code, len);

	return (op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef);
}

size_t insn_fetch(const struct guest_mem *gm, uint64_t cr3, uint64_t va, uint8_t *buf,
		  size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct pt_translation t;
		uint64_t at = va + done;
		uint64_t chunk = PT_SIZE_4K - (at & (PT_SIZE_4K - 1));   /* to the page's end */

		if (chunk > len - done)
			chunk = len - done;
		if (pt_translate(gm, NULL, cr3, at, &t) != PT_OK ||
		    !guest_mem_read(gm, t.pa, buf + done, chunk))
			break;
		done += chunk;
	}
	return done;
}

bool insn_exit_was_string_io(const struct guest_mem *gm, uint64_t cr3, uint64_t rip)
{
	uint8_t code[INSN_MAX_LEN], last;
	size_t n = insn_fetch(gm, cr3, rip, code, sizeof(code));

	if (n == 0)
		return false;   /* unreadable code: the byte before RIP would be a guess */
	if (insn_is_string_io(code, n))
		return true;
	if (insn_is_port_io(code, n))
		return false;   /* RIP is at the plain IN/OUT that exited */
	/*
	 * RIP is past the instruction. INS/OUTS end in their opcode; a plain
	 * IN/OUT to a hypercall port (beyond an imm8's reach) ends in 0xEC-0xEF.
	 */
	return insn_fetch(gm, cr3, rip - 1, &last, 1) == 1 && last >= 0x6c && last <= 0x6f;
}
