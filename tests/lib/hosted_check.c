/* SPDX-License-Identifier: BSD-2-Clause */
/* The hosted MM checked by the checker library (compiled HATVM_HOST: it meets the MM only through hosted_mm.h). */
#include "hosted_check.h"

#include <stdio.h>

#include "hosted_mm.h"

void hmm_check(struct seen *out)
{
	struct check_mem mem;
	struct mm_symbols sym;

	hmm_view(&mem, &sym);
	run_check(&mem, &sym, out);
}

bool hmm_clean(char *text, size_t len)
{
	struct seen s;
	int n;

	hmm_check(&s);
	if (s.returned == 0 && s.parsed == 0)
		return true;
	n = snprintf(text, len, "checker: %u violations (%u in the report):", s.returned, s.parsed);
	if (n >= 0 && (size_t)n < len)
		seen_format(&s, text + n, len - (size_t)n);
	return false;
}
