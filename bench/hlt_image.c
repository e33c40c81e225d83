/* SPDX-License-Identifier: BSD-2-Clause */
/* The smallest guest image vmm boots: one executable segment holding a HLT. */
#include "hlt_image.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#define HLT_PADDR 0x300000ull                   /* above the boot contract's reserved low RAM */
#define HLT_VADDR (0xffffffff80000000ull + HLT_PADDR)   /* the kernel half, like the bundled guest */
#define CODE_AT   0x80u                         /* file offset of the code, after both headers */

int hlt_image_write(const char *path)
{
	static const unsigned char hlt = 0xf4;
	static const unsigned char pad[CODE_AT - sizeof(Elf64_Ehdr) - sizeof(Elf64_Phdr)];
	Elf64_Ehdr eh = {
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = HLT_VADDR, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = CODE_AT,
		.p_vaddr = HLT_VADDR, .p_paddr = HLT_PADDR, .p_filesz = 1, .p_memsz = 1, .p_align = 1,
	};
	FILE *f = fopen(path, "wb");
	int ok;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	ok = f != NULL && fwrite(&eh, sizeof(eh), 1, f) == 1 && fwrite(&ph, sizeof(ph), 1, f) == 1 &&
	     fwrite(pad, sizeof(pad), 1, f) == 1 && fwrite(&hlt, 1, 1, f) == 1;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (!ok)
		perror(path);
	return ok ? 0 : -1;
}
