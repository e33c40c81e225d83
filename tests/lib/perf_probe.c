/* SPDX-License-Identifier: BSD-2-Clause */
/* Probes `vmm record` once, telling "perf cannot record here" from a recorder bug. */
#include "perf_probe.h"

#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

bool perf_can_record(const char *vmm, const char *probe_trace, char **why)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm, "record", "-q", "-o", probe_trace, "--",
							"true", NULL });
	bool unusable = r.status != VMM_EXIT_OK &&
			(strstr(r.err, "cannot run perf") || strstr(r.err, "perf was refused") ||
			 strstr(r.err, "does not match the running kernel") ||
			 strstr(r.err, "does not offer a tracepoint"));

	*why = unusable ? strdup(r.err) : NULL;
	vmm_result_free(&r);
	return !unusable;
}
