/* SPDX-License-Identifier: BSD-2-Clause */
/* The speed-up two CPUs of this machine give work that shares nothing, measured beside the MM's parallel runs. */
#ifndef BENCH_CPU_CEILING_H
#define BENCH_CPU_CEILING_H

/* Wall ns per cache line of `threads` (1 or 2) CPUs at once on buffers of their own. */
double cpu_ceiling_run(unsigned threads);

#endif
