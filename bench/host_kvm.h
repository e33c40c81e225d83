/* SPDX-License-Identifier: BSD-2-Clause */
/* Which KVM this host has, so KVM benchmarks can skip without it and label emulated figures. */
#ifndef BENCH_HOST_KVM_H
#define BENCH_HOST_KVM_H

#include <stdbool.h>

/* Whether /dev/kvm opens read-write: the KVM benchmarks' precondition. */
bool bench_kvm_usable(void);

/* "kvm_intel", "kvm_amd", "kvm_pvm", "kvm_amd nested in QEMU TCG" or "unknown"; "absent" when /dev/kvm is not usable. */
const char *bench_kvm_module(void);

/* Whether guest code here is emulated (kvm_pvm, or KVM inside QEMU TCG), so guest-side timings are not the guest code's cost. */
bool bench_kvm_emulated(void);

/*
 * Whether this process itself runs on QEMU's software CPU (the KVM
 * benchmarks inside scripts/nested-kvm.sh's VM): then the host side's
 * timings, vmm's and the checker's, are emulated too, and judge nothing.
 */
bool bench_host_emulated(void);

#endif
