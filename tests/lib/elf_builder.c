/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: lays out and writes ELF64 images byte by byte from <elf.h> structs. */
#include "elf_builder.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char shstrtab[] = "\0.symtab\0.strtab\0.shstrtab";
enum { SHSTR_SYMTAB = 1, SHSTR_STRTAB = 9, SHSTR_SHSTRTAB = 17 };

/* Where the symbol sections go, after all segment bytes. */
struct sym_layout {
	uint64_t strtab, strsz, symtab, symsz, shstr, shdrs, end;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void eb_init(struct eb_image *img)
{
	memset(img, 0, sizeof(*img));
	Elf64_Ehdr *eh = &img->ehdr;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = EB_PHDR_AT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	img->truncate_to = -1;
	img->next_data = align_up(EB_PHDR_AT + EB_MAX_PHDRS * sizeof(Elf64_Phdr), 16);
}

size_t eb_add_phdr(struct eb_image *img, uint32_t type, uint64_t vaddr, uint64_t paddr,
		   uint32_t flags, const void *data, size_t filesz, uint64_t memsz)
{
	if (img->nphdr == EB_MAX_PHDRS)
		abort();
	size_t i = img->nphdr++;
	img->phdr[i] = (Elf64_Phdr){
		.p_type = type, .p_flags = flags, .p_offset = img->next_data,
		.p_vaddr = vaddr, .p_paddr = paddr, .p_filesz = filesz, .p_memsz = memsz,
		.p_align = 0x1000,
	};
	img->data[i] = data;
	img->data_len[i] = filesz;
	img->data_at[i] = img->next_data;
	img->next_data = align_up(img->next_data + filesz, 16);
	img->ehdr.e_phnum = (Elf64_Half)img->nphdr;
	return i;
}

void eb_add_sym(struct eb_image *img, struct eb_sym sym)
{
	if (img->nsyms == EB_MAX_SYMS)
		abort();
	img->syms[img->nsyms++] = sym;
}

static struct sym_layout layout_symbols(const struct eb_image *img)
{
	struct sym_layout l = { .strtab = img->next_data, .strsz = 1 };
	for (size_t i = 0; i < img->nsyms; i++)
		l.strsz += strlen(img->syms[i].name) + 1;
	l.symtab = align_up(l.strtab + l.strsz, 8);
	l.symsz = (img->nsyms + 1) * sizeof(Elf64_Sym);
	l.shstr = l.symtab + l.symsz;
	l.shdrs = align_up(l.shstr + sizeof(shstrtab), 8);
	l.end = l.shdrs + 4 * sizeof(Elf64_Shdr);
	return l;
}

static Elf64_Sym make_sym(const struct eb_sym *s, uint32_t name)
{
	return (Elf64_Sym){
		.st_name = name,
		.st_info = ELF64_ST_INFO(s->local ? STB_LOCAL : STB_GLOBAL, STT_OBJECT),
		.st_shndx = s->undefined ? SHN_UNDEF : SHN_ABS,
		.st_value = s->value, .st_size = s->size,
	};
}

static void put_symbols(const struct eb_image *img, const struct sym_layout *l, uint8_t *buf)
{
	uint64_t name = 1;
	Elf64_Sym *syms = (Elf64_Sym *)(buf + l->symtab);
	for (size_t i = 0; i < img->nsyms; i++) {
		size_t len = strlen(img->syms[i].name) + 1;
		memcpy(buf + l->strtab + name, img->syms[i].name, len);
		syms[i + 1] = make_sym(&img->syms[i], (uint32_t)name);
		name += len;
	}
	memcpy(buf + l->shstr, shstrtab, sizeof(shstrtab));
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + l->shdrs);
	sh[1] = (Elf64_Shdr){ .sh_name = SHSTR_SYMTAB, .sh_type = SHT_SYMTAB,
		.sh_offset = l->symtab, .sh_size = l->symsz, .sh_link = 2, .sh_info = 1,
		.sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[2] = (Elf64_Shdr){ .sh_name = SHSTR_STRTAB, .sh_type = SHT_STRTAB,
		.sh_offset = l->strtab, .sh_size = l->strsz, .sh_addralign = 1 };
	sh[3] = (Elf64_Shdr){ .sh_name = SHSTR_SHSTRTAB, .sh_type = SHT_STRTAB,
		.sh_offset = l->shstr, .sh_size = sizeof(shstrtab), .sh_addralign = 1 };
}

static int write_file(const char *path, const uint8_t *buf, uint64_t size, int64_t truncate_to)
{
	uint64_t len = truncate_to >= 0 && (uint64_t)truncate_to < size ? (uint64_t)truncate_to
									 : size;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write(fd, buf, len) == (ssize_t)len ? 0 : -1;
	if (rc == 0 && truncate_to >= 0)
		rc = ftruncate(fd, truncate_to);
	close(fd);
	return rc;
}

int eb_write(struct eb_image *img, const char *path)
{
	struct sym_layout l = layout_symbols(img);
	uint64_t size = img->nsyms ? l.end : img->next_data;
	uint8_t *buf = calloc(1, size);
	if (!buf)
		return -1;
	Elf64_Ehdr eh = img->ehdr;
	if (img->nsyms) {
		eh.e_shoff = l.shdrs;
		eh.e_shnum = 4;
		eh.e_shstrndx = 3;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		put_symbols(img, &l, buf);
		img->out_shoff = l.shdrs;
		img->out_symtab_off = l.symtab;
		img->out_strtab_off = l.strtab;
		img->out_strtab_size = l.strsz;
	}
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + EB_PHDR_AT, img->phdr, img->nphdr * sizeof(Elf64_Phdr));
	for (size_t i = 0; i < img->nphdr; i++)
		if (img->data_len[i])
			memcpy(buf + img->data_at[i], img->data[i], img->data_len[i]);
	img->out_size = size;
	int rc = write_file(path, buf, size, img->truncate_to);
	free(buf);
	return rc;
}

int eb_patch(const char *path, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = pwrite(fd, bytes, len, (off_t)off) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}
