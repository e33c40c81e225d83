/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest instruction behind a port-I/O exit: string I/O (INS/OUTS) or a plain IN/OUT. */
#ifndef VMM_INSN_DECODE_H
#define VMM_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define INSN_MAX_LEN 15   /* longer encodings raise #GP on x86 */

/*
 * True when CODE[0..LEN) starts with INS or OUTS (opcodes 0x6C-0x6F)
 * after any legacy prefixes (0x66 0x67 0xF2 0xF3 0x2E 0x36 0x3E 0x26
 * 0x64 0x65) and REX bytes (0x40-0x4F). False for anything else,
 * including input that ends before the opcode.
 */
bool insn_is_string_io(const uint8_t *code, size_t len);

/* True when CODE[0..LEN) starts, after the same prefixes, with IN or OUT (0xE4-0xE7, 0xEC-0xEF). */
bool insn_is_port_io(const uint8_t *code, size_t len);

/*
 * Copies up to LEN bytes of guest code at virtual address VA, translated
 * through the guest's tables at CR3, into BUF; stops at the first byte
 * that does not translate to RAM. Returns the number of bytes copied.
 */
size_t insn_fetch(const struct guest_mem *gm, uint64_t cr3, uint64_t va, uint8_t *buf,
		  size_t len);

/*
 * Whether the port-I/O exit that left the vCPU at RIP (tables at CR3)
 * came from INS or OUTS. KVM leaves RIP at the I/O instruction, except
 * after the last iteration of an emulated string instruction (and, before
 * Linux 5.1, after any OUT), where RIP is already past it: then the byte
 * just before RIP is the instruction's last byte, its opcode.
 */
bool insn_exit_was_string_io(const struct guest_mem *gm, uint64_t cr3, uint64_t rip);

#endif
