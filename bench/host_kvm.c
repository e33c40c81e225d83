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

const char *bench_kvm_module(void)
{
	static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	struct stat st;
	char path[64];

	if (!bench_kvm_usable())
		return "absent";
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (stat(path, &st) == 0)
			return mods[i];
	}
	return "unknown";
}

bool bench_kvm_emulated(void)
{
	return strcmp(bench_kvm_module(), "kvm_pvm") == 0;
}
