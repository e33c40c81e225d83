/* SPDX-License-Identifier: BSD-2-Clause */
/* The hosted MM checked by the checker library (compiled HATVM_HOST: it meets the MM only through hosted_mm.h). */
#include "hosted_check.h"

#include "hosted_mm.h"

void hmm_check(struct seen *out)
{
	struct check_mem mem;
	struct mm_symbols sym;

	hmm_view(&mem, &sym);
	run_check(&mem, &sym, out);
}
