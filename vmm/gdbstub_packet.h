/* SPDX-License-Identifier: BSD-2-Clause */
/* GDB remote serial protocol framing: checksums, the byte-by-byte packet parser, hex and escaping. */
#ifndef VMM_GDBSTUB_PACKET_H
#define VMM_GDBSTUB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet body we accept or send (qSupported's PacketSize, in hex: 0x1000). */
#define GDB_PACKET_MAX 4096

enum gdb_input {
	GDB_IN_MORE,        /* byte consumed, no complete unit yet */
	GDB_IN_PACKET,      /* a packet with a good checksum: parser.body, parser.len */
	GDB_IN_BAD,         /* bad checksum or a too long packet: answer '-' */
	GDB_IN_INTERRUPT,   /* 0x03 outside a packet: Ctrl-C */
	GDB_IN_ACK,         /* '+' */
	GDB_IN_NAK,         /* '-': resend the last packet */
};

/* State of one connection's incoming byte stream; zero-initialise. */
struct gdb_parser {
	enum { GDB_P_IDLE, GDB_P_BODY, GDB_P_SUM1, GDB_P_SUM2 } state;
	bool overflow;          /* the body outgrew GDB_PACKET_MAX: the packet is refused */
	uint8_t sum;            /* running checksum of the body */
	uint8_t sent_sum;       /* the high nibble of the sender's checksum */
	size_t len;
	char body[GDB_PACKET_MAX + 1];   /* NUL-terminated once complete (binary may hold NULs) */
};

/* Feeds one byte; any byte sequence is accepted (noise between packets is ignored). */
enum gdb_input gdb_parser_feed(struct gdb_parser *p, uint8_t byte);

/* The modulo-256 sum of LEN bytes. */
uint8_t gdb_checksum(const void *data, size_t len);

/*
 * Frames BODY ($body#xx) into out[size], escaping '#', '$', '}' and '*';
 * returns the framed length, or 0 when it does not fit.
 */
size_t gdb_frame(const void *body, size_t len, char *out, size_t size);

/* Undoes binary escaping ('}' x ^ 0x20) in place; returns the new length, or -1 when malformed. */
long gdb_unescape(char *data, size_t len);

/* Hex of LEN bytes into out (2 * LEN chars + NUL). */
void gdb_hex_encode(const void *data, size_t len, char *out);

/* Decodes exactly 2 * LEN hex digits; false on any other character. */
bool gdb_hex_decode(const char *hex, void *out, size_t len);

/*
 * Parses a hex number of at most 16 digits at *p, advancing *p; false
 * when there is none or it overflows 64 bits.
 */
bool gdb_parse_hex(const char **p, uint64_t *value);

#endif
