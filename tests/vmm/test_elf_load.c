/* SPDX-License-Identifier: BSD-2-Clause */
/* Check tests: the ELF loader and symbol reader on valid images and on one image per defect. */
#define _GNU_SOURCE   /* nftw, FTW_DEPTH */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hatvm/exit_status.h>
#include <hatvm/layout.h>

#include "elf_builder.h"
#include "elf_file.h"
#include "elf_load.h"
#include "elf_symbols.h"
#include "run_vmm.h"

#define RAM_SIZE GUEST_RAM_MIN
#define LOAD_MIN BOOT_RESERVED_END
#define TEXT_VA  0xffffffff80200000ull   /* higher half, backed at TEXT_PA */
#define TEXT_PA  0x200000ull
#define DATA_PA  0x210000ull
#define BSS_PA   0x220000ull
#define ENTRY    (TEXT_VA + 0x10)
#define FILL     0xAA                    /* RAM bytes the loader must not touch */

/* Program header indices in valid_image(). */
enum { SEG_TEXT, SEG_DATA, SEG_BSS, SEG_STACK };

static const char *vmm_path;             /* argv[1]; NULL skips the vmm cases */
static char tmp_dir[256];            /* short, so every case path fits PATH_MAX */
static uint8_t text[256], data[100];

/* Looked up by name in this test's own binary. */
__attribute__((used)) const uint64_t elf_test_marker[4] = { 1, 2, 3, 4 };

static void case_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.elf", tmp_dir, name);
}

/* Three PT_LOADs (higher-half text, data with a BSS tail, BSS only) and a PT_GNU_STACK. */
static void valid_image(struct eb_image *img)
{
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xc0 + i);
	eb_init(img);
	img->ehdr.e_entry = ENTRY;
	eb_add_load(img, TEXT_VA, TEXT_PA, PF_R | PF_X, text, sizeof(text), sizeof(text));
	eb_add_load(img, DATA_PA, DATA_PA, PF_R | PF_W, data, sizeof(data), 0x1000);
	eb_add_load(img, BSS_PA, BSS_PA, PF_R | PF_W, NULL, 0, 0x3000);
	eb_add_phdr(img, PT_GNU_STACK, 0, 0, PF_R | PF_W, NULL, 0, 0);
}

static void write_image(struct eb_image *img, const char *path)
{
	ck_assert_msg(eb_write(img, path) == 0, "writing %s: %s", path, strerror(errno));
}

static void write_bytes(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert(write(fd, bytes, len) == (ssize_t)len);
	close(fd);
}

static uint8_t *new_ram(void)
{
	uint8_t *ram = malloc(RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, FILL, RAM_SIZE);
	return ram;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void assert_names_path(const char *err, const char *path)
{
	size_t n = strlen(path);
	ck_assert_msg(strncmp(err, path, n) == 0 && err[n] == ':',
		      "message '%s' does not start with '%s:'", err, path);
}

static void assert_seg(const struct elf_segment *s, uint64_t va, uint64_t pa, uint64_t filesz,
		       uint64_t memsz, uint32_t flags)
{
	ck_assert_uint_eq(s->vaddr, va);
	ck_assert_uint_eq(s->paddr, pa);
	ck_assert_uint_eq(s->filesz, filesz);
	ck_assert_uint_eq(s->memsz, memsz);
	ck_assert_uint_eq(s->flags, flags);
}

/* Loads PATH into fresh RAM (the caller frees it); fails the test on error. */
static uint8_t *expect_loads_into(const char *path, struct elf_image *img)
{
	char err[512] = "";
	uint8_t *ram = new_ram();
	ck_assert_msg(elf_load(path, ram, RAM_SIZE, LOAD_MIN, img, err, sizeof(err)) == 0,
		      "%s", err);
	return ram;
}

static void expect_loads(const char *path)
{
	struct elf_image img;
	free(expect_loads_into(path, &img));
}

START_TEST(test_valid_image_loads)
{
	struct eb_image eb;
	struct elf_image img;
	char path[PATH_MAX];
	valid_image(&eb);
	case_path(path, sizeof(path), "valid");
	write_image(&eb, path);
	uint8_t *ram = expect_loads_into(path, &img);
	ck_assert_uint_eq(img.entry, ENTRY);
	ck_assert_uint_eq(img.nsegs, 3);
	assert_seg(&img.segs[0], TEXT_VA, TEXT_PA, sizeof(text), sizeof(text), PF_R | PF_X);
	assert_seg(&img.segs[1], DATA_PA, DATA_PA, sizeof(data), 0x1000, PF_R | PF_W);
	assert_seg(&img.segs[2], BSS_PA, BSS_PA, 0, 0x3000, PF_R | PF_W);
	ck_assert_mem_eq(ram + TEXT_PA, text, sizeof(text));
	ck_assert_mem_eq(ram + DATA_PA, data, sizeof(data));
	ck_assert(all_bytes(ram + DATA_PA + sizeof(data), 0x1000 - sizeof(data), 0));
	ck_assert(all_bytes(ram + BSS_PA, 0x3000, 0));
	ck_assert(all_bytes(ram, TEXT_PA, FILL));
	ck_assert_uint_eq(ram[TEXT_PA + sizeof(text)], FILL);
	ck_assert_uint_eq(ram[DATA_PA + 0x1000], FILL);
	ck_assert_uint_eq(ram[BSS_PA + 0x3000], FILL);
	free(ram);
}
END_TEST

/* One malformed image: either a tweak of valid_image() or a file made by hand. */
struct defect {
	const char *name;
	const char *phrase;                      /* must appear in the message */
	void (*tweak)(struct eb_image *img);
	void (*make)(const char *path);
};

#define TWEAK(name, ...) \
	static void tweak_##name(struct eb_image *img) { __VA_ARGS__; }

static void set_both(struct eb_image *img, size_t i, uint64_t addr)
{
	img->phdr[i].p_vaddr = addr;
	img->phdr[i].p_paddr = addr;
}

static void tweak_too_many(struct eb_image *img)
{
	for (uint64_t k = 0; k < ELF_MAX_SEGMENTS - 2; k++)
		eb_add_load(img, 0x230000 + k * 0x1000, 0x230000 + k * 0x1000, PF_R, NULL, 0, 0x100);
}

TWEAK(truncated, img->truncate_to = 40)
TWEAK(bad_magic, img->ehdr.e_ident[EI_MAG1] = 'X')
TWEAK(class32, img->ehdr.e_ident[EI_CLASS] = ELFCLASS32)
TWEAK(big_endian, img->ehdr.e_ident[EI_DATA] = ELFDATA2MSB)
TWEAK(ident_version, img->ehdr.e_ident[EI_VERSION] = EV_NONE)
TWEAK(e_version, img->ehdr.e_version = 2)
TWEAK(et_dyn, img->ehdr.e_type = ET_DYN)
TWEAK(et_rel, img->ehdr.e_type = ET_REL)
TWEAK(machine, img->ehdr.e_machine = EM_386)
TWEAK(phentsize, img->ehdr.e_phentsize = 32)
TWEAK(phnum_zero, img->ehdr.e_phnum = 0)
TWEAK(phnum_xnum, img->ehdr.e_phnum = PN_XNUM)
TWEAK(phoff_eof, img->ehdr.e_phoff = 0x100000)
TWEAK(phoff_wrap, img->ehdr.e_phoff = UINT64_MAX - 8)
TWEAK(phnum_eof, img->ehdr.e_phnum = 60000)
TWEAK(no_load, for (size_t i = 0; i < img->nphdr; i++) img->phdr[i].p_type = PT_NOTE)
TWEAK(filesz_gt_memsz, img->phdr[SEG_DATA].p_memsz = 50)
TWEAK(offset_eof, img->phdr[SEG_DATA].p_offset = 0x100000)
TWEAK(offset_wrap, img->phdr[SEG_DATA].p_offset = UINT64_MAX - 10)
TWEAK(data_cut, img->truncate_to = (int64_t)img->data_at[SEG_DATA] + 10)
TWEAK(above_ram, set_both(img, SEG_DATA, 0xC0000000))
TWEAK(straddles_ram_end, set_both(img, SEG_DATA, GUEST_RAM_MAX - 0x800))
TWEAK(below_load_min, set_both(img, SEG_DATA, 0x1000))
TWEAK(bss_outside_ram, set_both(img, SEG_BSS, 0xD0000000))
TWEAK(vaddr_wrap, img->phdr[SEG_DATA].p_vaddr = 0xfffffffffffff000,
      img->phdr[SEG_DATA].p_memsz = 0x2000)
TWEAK(paddr_wrap, img->phdr[SEG_DATA].p_paddr = 0xfffffffffffff000,
      img->phdr[SEG_DATA].p_memsz = 0x2000)
TWEAK(noncanonical, img->phdr[SEG_TEXT].p_vaddr = 0x0000800000000000)
TWEAK(crosses_hole, img->phdr[SEG_DATA].p_vaddr = 0x00007ffffffff000,
      img->phdr[SEG_DATA].p_memsz = 0x2000)
TWEAK(phys_overlap, img->phdr[SEG_BSS].p_paddr = DATA_PA,
      img->phdr[SEG_BSS].p_vaddr = 0xffffffff80300000)
TWEAK(virt_overlap, img->phdr[SEG_BSS].p_vaddr = TEXT_VA)
TWEAK(align, img->phdr[SEG_DATA].p_align = 0x3000)
TWEAK(wx, img->phdr[SEG_DATA].p_flags = PF_R | PF_W | PF_X)
TWEAK(page_offset, img->phdr[SEG_TEXT].p_vaddr = TEXT_VA + 0x800,
      img->ehdr.e_entry = TEXT_VA + 0x810)
TWEAK(identity_alias, img->phdr[SEG_DATA].p_vaddr = 0x310000)
TWEAK(entry_in_data, img->ehdr.e_entry = DATA_PA + 0x10)
TWEAK(entry_past_text, img->ehdr.e_entry = TEXT_VA + sizeof(text))
TWEAK(entry_nowhere, img->ehdr.e_entry = 0x12345678)

static void make_missing(const char *path)
{
	(void)path;
}

static void make_dir(const char *path)
{
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void make_empty(const char *path)
{
	write_bytes(path, "", 0);
}

static void make_text(const char *path)
{
	static const char msg[] = "#!/bin/sh\necho not an ELF\n";
	write_bytes(path, msg, sizeof(msg) - 1);
}

static void make_tiny(const char *path)
{
	write_bytes(path, ELFMAG, 3);
}

static void make_huge(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)ELF_MAX_FILE_SIZE + 1), 0);   /* sparse */
	close(fd);
}

#define T(name, phrase) { #name, phrase, tweak_##name, NULL }
#define M(name, phrase) { #name, phrase, NULL, make_##name }

static const struct defect defects[] = {
	M(missing, "No such file or directory"),
	M(dir, "is a directory"),
	M(empty, "empty file"),
	M(huge, "larger than the 1 GiB limit"),
	M(tiny, "truncated"),
	M(text, "not an ELF file"),
	T(truncated, "truncated"),
	T(bad_magic, "not an ELF file"),
	T(class32, "not ELFCLASS64"),
	T(big_endian, "not ELFDATA2LSB"),
	T(ident_version, "e_ident version 0 is not EV_CURRENT"),
	T(e_version, "e_version 2 is not EV_CURRENT"),
	T(et_dyn, "ET_DYN (3) is not ET_EXEC"),
	T(et_rel, "ET_REL (1) is not ET_EXEC"),
	T(machine, "e_machine 3 is not EM_X86_64"),
	T(phentsize, "e_phentsize 32"),
	T(phnum_zero, "no program headers"),
	T(phnum_xnum, "PN_XNUM"),
	T(phoff_eof, "program header table"),
	T(phoff_wrap, "program header table"),
	T(phnum_eof, "program header table"),
	T(no_load, "no PT_LOAD segment"),
	T(too_many, "more than 32 PT_LOAD segments"),
	T(filesz_gt_memsz, "segment 1: p_filesz 0x64 exceeds p_memsz 0x32"),
	T(offset_eof, "segment 1: file data"),
	T(offset_wrap, "past end of file"),
	T(data_cut, "past end of file"),
	T(above_ram, "segment 1 (p_paddr 0xc0000000+0x1000) lies outside guest RAM"),
	T(straddles_ram_end, "lies outside guest RAM"),
	T(below_load_min, "lies outside guest RAM"),
	T(bss_outside_ram, "segment 2 (p_paddr 0xd0000000+0x3000) lies outside guest RAM"),
	T(vaddr_wrap, "virtual range p_vaddr 0xfffffffffffff000+0x2000 wraps"),
	T(paddr_wrap, "physical range p_paddr 0xfffffffffffff000+0x2000 wraps"),
	T(noncanonical, "not canonical"),
	T(crosses_hole, "not canonical"),
	T(phys_overlap, "segments 1 and 2 overlap in physical memory"),
	T(virt_overlap, "segments 0 and 2 overlap in virtual memory"),
	T(align, "p_align 0x3000 is not"),
	T(wx, "segment 1 is both writable and executable (W+X)"),
	T(page_offset, "differ in page offset"),
	T(identity_alias, "identity-mapped"),
	T(entry_in_data, "entry point 0x210010 is not inside an executable"),
	T(entry_past_text, "entry point"),
	T(entry_nowhere, "entry point"),
};

static void build_case(const struct defect *d, const char *path)
{
	if (d->make) {
		d->make(path);
		return;
	}
	struct eb_image eb;
	valid_image(&eb);
	d->tweak(&eb);
	write_image(&eb, path);
}

/* elf_load must fail with the phrase and leave RAM and *img untouched. */
static void expect_load_fails(const char *path, const char *phrase)
{
	struct elf_image img;
	char err[512] = "";
	uint8_t *ram = new_ram();
	ck_assert_msg(elf_load(path, ram, RAM_SIZE, LOAD_MIN, &img, err, sizeof(err)) == -1,
		      "%s loaded", path);
	assert_names_path(err, path);
	ck_assert_msg(strstr(err, phrase), "message '%s' lacks '%s'", err, phrase);
	ck_assert_msg(all_bytes(ram, RAM_SIZE, FILL), "%s: RAM written before rejection", path);
	ck_assert_uint_eq(img.nsegs, 0);
	free(ram);
}

static void read_text(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* `vmm --timeout 5 PATH` must exit 2 and name PATH on stderr. */
static void expect_vmm_rejects(const char *path)
{
	char errpath[PATH_MAX + 16], out[8192];
	snprintf(errpath, sizeof(errpath), "%s.stderr", path);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDWR);
		if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(vmm_path, vmm_path, "--timeout", "5", path, (char *)NULL);
		_exit(127);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	read_text(errpath, out, sizeof(out));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == VMM_EXIT_USAGE,
		      "vmm %s: wait status 0x%x (want VMM_EXIT_USAGE); stderr: %s", path, status, out);
	ck_assert_msg(strstr(out, path), "vmm stderr does not name %s: %s", path, out);
}

START_TEST(test_defect_rejected)
{
	const struct defect *d = &defects[_i];
	char path[PATH_MAX];
	case_path(path, sizeof(path), d->name);
	build_case(d, path);
	expect_load_fails(path, d->phrase);
	if (vmm_path)
		expect_vmm_rejects(path);
}
END_TEST

/* A real toolchain-made ET_DYN file (this test) is refused as not ET_EXEC. */
START_TEST(test_self_is_not_exec)
{
	expect_load_fails("/proc/self/exe", "is not ET_EXEC");
}
END_TEST

static void symbol_image(struct eb_image *img)
{
	valid_image(img);
	eb_add_sym(img, (struct eb_sym){ .name = "extern_thing", .undefined = true });
	eb_add_sym(img, (struct eb_sym){ .name = "hat_pages", .value = 0xffffffff80204000,
					 .size = 0x40 });
	eb_add_sym(img, (struct eb_sym){ .name = "counter", .value = 0x1111, .size = 4,
					 .local = true });
	eb_add_sym(img, (struct eb_sym){ .name = "counter", .value = 0x2222, .size = 8 });
	eb_add_sym(img, (struct eb_sym){ .name = "only_local", .value = 0x3333, .size = 2,
					 .local = true });
}

static struct elf_symbols *open_ok(const char *path)
{
	char err[512] = "";
	struct elf_symbols *syms = elf_symbols_open(path, err, sizeof(err));
	ck_assert_msg(syms != NULL, "%s", err);
	return syms;
}

static void assert_sym(const struct elf_symbols *syms, const char *name, uint64_t addr,
		       uint64_t size)
{
	uint64_t a = 0, s = 0;
	ck_assert_msg(elf_symbols_lookup(syms, name, &a, &s) == 0, "%s not found", name);
	ck_assert_uint_eq(a, addr);
	ck_assert_uint_eq(s, size);
}

static void assert_no_sym(const struct elf_symbols *syms, const char *name)
{
	uint64_t a, s;
	ck_assert_msg(elf_symbols_lookup(syms, name, &a, &s) == -1, "%s found", name);
}

START_TEST(test_symbols_lookup)
{
	struct eb_image eb;
	char path[PATH_MAX];
	symbol_image(&eb);
	case_path(path, sizeof(path), "symbols");
	write_image(&eb, path);
	expect_loads(path);   /* section headers do not disturb loading */
	struct elf_symbols *syms = open_ok(path);
	assert_sym(syms, "hat_pages", 0xffffffff80204000, 0x40);
	assert_sym(syms, "counter", 0x2222, 8);
	assert_sym(syms, "only_local", 0x3333, 2);
	assert_no_sym(syms, "extern_thing");
	assert_no_sym(syms, "no_such_symbol");
	assert_no_sym(syms, "");
	elf_symbols_close(syms);
}
END_TEST

START_TEST(test_symbols_none)
{
	struct eb_image eb;
	char path[PATH_MAX];
	valid_image(&eb);
	case_path(path, sizeof(path), "nosymtab");
	write_image(&eb, path);
	struct elf_symbols *syms = open_ok(path);
	assert_no_sym(syms, "hat_pages");
	elf_symbols_close(syms);
}
END_TEST

START_TEST(test_symbols_self)
{
	struct elf_symbols *syms = open_ok("/proc/self/exe");
	uint64_t addr = 0, size = 0;
	ck_assert_int_eq(elf_symbols_lookup(syms, "elf_test_marker", &addr, &size), 0);
	ck_assert_uint_ne(addr, 0);
	ck_assert_uint_eq(size, sizeof(elf_test_marker));
	assert_no_sym(syms, "elf_test_no_such_symbol");
	elf_symbols_close(syms);
}
END_TEST

static void expect_open_fails(const char *path, const char *phrase)
{
	char err[512] = "";
	ck_assert_msg(elf_symbols_open(path, err, sizeof(err)) == NULL, "%s opened", path);
	assert_names_path(err, path);
	ck_assert_msg(strstr(err, phrase), "message '%s' lacks '%s'", err, phrase);
}

START_TEST(test_symbols_garbage)
{
	char path[PATH_MAX];
	case_path(path, sizeof(path), "sym_garbage");
	make_text(path);
	expect_open_fails(path, "not a 64-bit little-endian ELF");
	case_path(path, sizeof(path), "sym_missing");
	expect_open_fails(path, "No such file or directory");
	case_path(path, sizeof(path), "sym_empty");
	make_empty(path);
	expect_open_fails(path, "empty file");
}
END_TEST

enum patch_base { AT_EHDR, AT_SHDR1, AT_SHDR2, AT_SYM2, AT_STRTAB_END };

/* Overwrite WIDTH bytes of a valid symbol image with VALUE (little-endian). */
struct sym_patch {
	const char *name;
	enum patch_base base;
	size_t field;
	size_t width;
	uint64_t value;
	const char *phrase;
};

#define SH(f) offsetof(Elf64_Shdr, f), sizeof(((Elf64_Shdr *)0)->f)
#define EH(f) offsetof(Elf64_Ehdr, f), sizeof(((Elf64_Ehdr *)0)->f)

static const struct sym_patch sym_patches[] = {
	{ "symtab_offset", AT_SHDR1, SH(sh_offset), 0xffffff0000, "past end of file" },
	{ "symtab_offset_wrap", AT_SHDR1, SH(sh_offset), UINT64_MAX - 4, "past end of file" },
	{ "symtab_size", AT_SHDR1, SH(sh_size), 24 * 0x10000, "past end of file" },
	{ "symtab_entsize", AT_SHDR1, SH(sh_entsize), 16, "sh_entsize" },
	{ "symtab_size_ragged", AT_SHDR1, SH(sh_size), 5 * 24 + 7, "sh_entsize" },
	{ "symtab_link_range", AT_SHDR1, SH(sh_link), 9, "sh_link 9" },
	{ "symtab_link_self", AT_SHDR1, SH(sh_link), 1, "sh_link 1" },
	{ "strtab_nobits", AT_SHDR2, SH(sh_type), SHT_NOBITS, "sh_link 2" },
	{ "strtab_offset", AT_SHDR2, SH(sh_offset), 0xffffff0000, "past end of file" },
	{ "st_name", AT_SYM2, offsetof(Elf64_Sym, st_name), 4, 0xffff, "outside .strtab" },
	{ "strtab_unterminated", AT_STRTAB_END, 0, 1, 'x', "outside .strtab" },
	{ "shoff", AT_EHDR, EH(e_shoff), 0xfffffffff0, "section header table" },
	{ "shoff_wrap", AT_EHDR, EH(e_shoff), UINT64_MAX - 16, "section header table" },
	{ "shentsize", AT_EHDR, EH(e_shentsize), 32, "e_shentsize 32" },
	{ "shnum", AT_EHDR, EH(e_shnum), 5000, "section header table" },
};

static uint64_t patch_offset(const struct eb_image *eb, const struct sym_patch *p)
{
	switch (p->base) {
	case AT_EHDR: return p->field;
	case AT_SHDR1: return eb->out_shoff + sizeof(Elf64_Shdr) + p->field;
	case AT_SHDR2: return eb->out_shoff + 2 * sizeof(Elf64_Shdr) + p->field;
	case AT_SYM2: return eb->out_symtab_off + 2 * sizeof(Elf64_Sym) + p->field;
	case AT_STRTAB_END: return eb->out_strtab_off + eb->out_strtab_size - 1;
	}
	return 0;
}

START_TEST(test_symbols_corrupt)
{
	const struct sym_patch *p = &sym_patches[_i];
	struct eb_image eb;
	char path[PATH_MAX], name[64];
	snprintf(name, sizeof(name), "sym_%s", p->name);
	case_path(path, sizeof(path), name);
	symbol_image(&eb);
	write_image(&eb, path);
	ck_assert_int_eq(eb_patch(path, patch_offset(&eb, p), &p->value, p->width), 0);
	expect_open_fails(path, p->phrase);
}
END_TEST

#ifndef FUZZ_ITERS
#define FUZZ_ITERS 2000
#endif

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Damages 1-4 bytes, mostly in the headers and symbol sections: the rest is padding. */
static void mutate(uint8_t *buf, size_t len, const struct eb_image *eb, uint64_t *seed)
{
	static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff };
	size_t hdrs = EB_PHDR_AT + eb->nphdr * sizeof(Elf64_Phdr);
	size_t syms = eb->out_strtab_off;
	int flips = 1 + (int)(xorshift(seed) % 4);
	for (int k = 0; k < flips; k++) {
		uint64_t r = xorshift(seed);
		size_t at = r % 3 == 0 ? (r / 3) % hdrs
			  : r % 3 == 1 ? syms + (r / 3) % (len - syms) : (r / 3) % len;
		r = xorshift(seed);
		buf[at] = r & 1 ? (uint8_t)(r >> 8) : interesting[(r >> 8) % sizeof(interesting)];
	}
}

/* Random byte damage must give a clean result or a clean error, never a crash. */
START_TEST(test_fuzz_no_crash)
{
	struct eb_image eb;
	char path[PATH_MAX], err[512];
	symbol_image(&eb);
	case_path(path, sizeof(path), "fuzz");
	write_image(&eb, path);
	size_t len = eb.out_size;
	uint8_t *orig = malloc(len), *buf = malloc(len), *ram = new_ram();
	int fd = open(path, O_RDONLY);
	ck_assert(fd >= 0 && read(fd, orig, len) == (ssize_t)len);
	close(fd);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int iter = 0; iter < FUZZ_ITERS; iter++) {
		memcpy(buf, orig, len);
		mutate(buf, len, &eb, &seed);
		write_bytes(path, buf, len);
		struct elf_image img;
		if (elf_load(path, ram, RAM_SIZE, LOAD_MIN, &img, err, sizeof(err)) != 0)
			assert_names_path(err, path);
		struct elf_symbols *syms = elf_symbols_open(path, err, sizeof(err));
		if (!syms)
			assert_names_path(err, path);
		elf_symbols_close(syms);
	}
	free(orig);
	free(buf);
	free(ram);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *load = tcase_create("load");
	tcase_set_timeout(load, 60);   /* runs vmm on every malformed image */
	tcase_add_test(load, test_valid_image_loads);
	tcase_add_loop_test(load, test_defect_rejected, 0, sizeof(defects) / sizeof(defects[0]));
	tcase_add_test(load, test_self_is_not_exec);
	suite_add_tcase(s, load);

	TCase *sym = tcase_create("symbols");
	tcase_add_test(sym, test_symbols_lookup);
	tcase_add_test(sym, test_symbols_none);
	tcase_add_test(sym, test_symbols_self);
	tcase_add_test(sym, test_symbols_garbage);
	tcase_add_loop_test(sym, test_symbols_corrupt, 0,
			    sizeof(sym_patches) / sizeof(sym_patches[0]));
	suite_add_tcase(s, sym);

	TCase *fuzz = tcase_create("fuzz");
	tcase_set_timeout(fuzz, 120);
	tcase_add_test(fuzz, test_fuzz_no_crash);
	suite_add_tcase(s, fuzz);
	return s;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	vmm_path = argc > 1 ? argv[1] : NULL;
	if (!vmm_path)
		printf("no vmm path given: skipping the vmm exit-status cases\n");
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(tmp_dir, sizeof(tmp_dir), "%s/hatvm-elf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(tmp_dir)) {
		fprintf(stderr, "TMPDIR is too long\n");
		return 1;
	}
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	int status = run_suite(elf_suite());
	nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}
