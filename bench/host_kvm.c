/* SPDX-License-Identifier: BSD-2-Clause */
/* Which KVM this host has, so KVM benchmarks can skip without it and label emulated figures. */
#include "host_kvm.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

bool bench_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether this machine's CPU is QEMU's software emulation (scripts/nested-kvm.sh's VM). */
static bool cpu_is_qemu_tcg(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, "QEMU TCG") != NULL;
}

const char *bench_kvm_module(void)
{
	static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	struct stat st;
	char path[64];

	if (!bench_kvm_usable())
		return "absent";
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (stat(path, &st) == 0 && strcmp(mods[i], "kvm_amd") == 0 && cpu_is_qemu_tcg())
			return "kvm_amd nested in QEMU TCG";
		if (stat(path, &st) == 0)
			return mods[i];
	}
	return "unknown";
}

bool bench_host_emulated(void)
{
	return cpu_is_qemu_tcg();
}

bool bench_kvm_emulated(void)
{
	const char *kvm = bench_kvm_module();

	return strcmp(kvm, "kvm_pvm") == 0 || strstr(kvm, "QEMU TCG") != NULL;
}
