/* SPDX-License-Identifier: BSD-2-Clause */
/* CRC-32 (IEEE 802.3, reflected, as zlib and gzip compute it) over the bytes of a trace file. */
#ifndef VMM_TRACE_CRC_H
#define VMM_TRACE_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Continues CRC (0 to start) over data[0..len). */
uint32_t trace_crc32(uint32_t crc, const void *data, size_t len);

#endif
