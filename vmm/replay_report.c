/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads the guest's replay figures at exit (symbol `replay_result`) and hands them to the report. */
#include "replay_report.h"

#include "elf_symbols.h"
#include "replay_source.h"

static bool header_valid(const struct replay_result *res)
{
	return res->magic == REPLAY_RESULT_MAGIC && res->version == REPLAY_RESULT_VERSION &&
	       res->size == sizeof(*res);
}

bool replay_report_read(const char *image, const struct check_mem *mem, struct replay_result *out)
{
	static struct mem_reader rd;   /* large; runs with the vCPUs stopped, like a check */
	struct elf_symbols *syms;
	uint64_t va, size;
	char err[256];
	int found;

	syms = elf_symbols_open(image, err, sizeof(err));
	if (syms == NULL)
		return false;
	found = elf_symbols_lookup(syms, REPLAY_RESULT_SYMBOL, &va, &size);
	elf_symbols_close(syms);
	if (found != 0 || size != sizeof(*out))
		return false;
	reader_init(&rd, mem);
	return reader_read_va(&rd, va, out, sizeof(*out)) && header_valid(out);
}

void replay_report_collect(const char *image, const struct check_mem *mem, struct report *report,
			   FILE *diag)
{
	struct replay_result res;
	const char *path = NULL;

	if (!replay_report_read(image, mem, &res)) {
		fprintf(diag, "vmm: --replay: the guest left no replay figures (it did not finish the "
			"replay); the report has none\n");
		return;
	}
	if (res.st.longest_list && !res.st.longest_anon && !(res.st.longest_obj & REPLAY_OBJ_SHM))
		path = replay_source_file_path(res.st.longest_obj);
	if (report_set_replay(report, &res, path) != 0)
		fprintf(diag, "vmm: out of memory for the replay figures; the report has none\n");
}
