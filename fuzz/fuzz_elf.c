/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the hardened ELF loader and the symbol reader on arbitrary files. */
#include <stdint.h>
#include <stdlib.h>

#include "elf_load.h"
#include "elf_symbols.h"
#include "fuzz_input.h"
#include "guest_mem.h"
#include "hatvm/layout.h"

#define FUZZ_RAM (16ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	struct elf_image img;
	char err[512];
	const char *path = fuzz_input_path(data, size);

	if (!gm.base && guest_mem_map(&gm, FUZZ_RAM) != 0)
		abort();
	elf_load(path, gm.base, gm.size, BOOT_RESERVED_END, &img, err, sizeof(err));

	struct elf_symbols *syms = elf_symbols_open(path, err, sizeof(err));
	if (syms) {
		uint64_t addr, len;
		elf_symbols_lookup(syms, "page_array", &addr, &len);
		elf_symbols_lookup(syms, "", &addr, &len);
		elf_symbols_close(syms);
	}
	return 0;
}
