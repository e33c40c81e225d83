/* SPDX-License-Identifier: BSD-2-Clause */
/* CRC-32 (IEEE 802.3, reflected, as zlib and gzip compute it) over the bytes of a trace file. */
#include "trace_crc.h"

#include <pthread.h>

static uint32_t table[256];

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

uint32_t trace_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_table);
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
