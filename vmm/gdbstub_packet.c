/* SPDX-License-Identifier: BSD-2-Clause */
/* GDB remote serial protocol framing: checksums, the byte-by-byte packet parser, hex and escaping. */
#include "gdbstub_packet.h"

#include <string.h>

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t gdb_checksum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

static enum gdb_input feed_idle(struct gdb_parser *p, uint8_t byte)
{
	switch (byte) {
	case '$':
		p->state = GDB_P_BODY;
		p->len = 0;
		p->sum = 0;
		p->overflow = false;
		return GDB_IN_MORE;
	case 0x03: return GDB_IN_INTERRUPT;
	case '+':  return GDB_IN_ACK;
	case '-':  return GDB_IN_NAK;
	default:   return GDB_IN_MORE;   /* noise between packets */
	}
}

static enum gdb_input feed_body(struct gdb_parser *p, uint8_t byte)
{
	if (byte == '#') {
		p->state = GDB_P_SUM1;
		return GDB_IN_MORE;
	}
	if (byte == '$') {   /* a new packet before this one ended: gdb restarted it */
		p->state = GDB_P_IDLE;
		return feed_idle(p, byte);
	}
	p->sum = (uint8_t)(p->sum + byte);
	if (p->len < GDB_PACKET_MAX)
		p->body[p->len++] = (char)byte;
	else
		p->overflow = true;
	return GDB_IN_MORE;
}

static enum gdb_input feed_sum(struct gdb_parser *p, uint8_t byte)
{
	int v = hex_value(byte);

	if (byte == '$') {   /* a new packet where the checksum should be: start over */
		p->state = GDB_P_IDLE;
		return feed_idle(p, byte);
	}
	if (p->state == GDB_P_SUM1) {
		p->sent_sum = (uint8_t)(v < 0 ? 0xff : v);
		p->state = v < 0 ? GDB_P_IDLE : GDB_P_SUM2;
		return v < 0 ? GDB_IN_BAD : GDB_IN_MORE;
	}
	p->state = GDB_P_IDLE;
	if (v < 0 || p->overflow || (uint8_t)(p->sent_sum << 4 | v) != p->sum)
		return GDB_IN_BAD;
	p->body[p->len] = '\0';
	return GDB_IN_PACKET;
}

enum gdb_input gdb_parser_feed(struct gdb_parser *p, uint8_t byte)
{
	switch (p->state) {
	case GDB_P_IDLE: return feed_idle(p, byte);
	case GDB_P_BODY: return feed_body(p, byte);
	default:         return feed_sum(p, byte);
	}
}

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t gdb_frame(const void *body, size_t len, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = body;
	size_t n = 0;
	uint8_t sum = 0;

	if (size < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		bool esc = needs_escape(b[i]);
		if (n + (esc ? 2 : 1) + 3 > size)
			return 0;
		uint8_t c = esc ? (uint8_t)(b[i] ^ 0x20) : b[i];
		if (esc) {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
		}
		out[n++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[n++] = '#';
	out[n++] = digits[sum >> 4];
	out[n++] = digits[sum & 15];
	return n;
}

long gdb_unescape(char *data, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '}') {
			if (++i == len)
				return -1;
			data[out++] = (char)(data[i] ^ 0x20);
		} else {
			data[out++] = data[i];
		}
	}
	return (long)out;
}

void gdb_hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

bool gdb_hex_decode(const char *hex, void *out, size_t len)
{
	uint8_t *b = out;

	for (size_t i = 0; i < len; i++) {
		int hi = hex_value((unsigned char)hex[2 * i]);
		int lo = hi < 0 ? -1 : hex_value((unsigned char)hex[2 * i + 1]);
		if (lo < 0)
			return false;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool gdb_parse_hex(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	int d, digits = 0;

	while ((d = hex_value((unsigned char)*s)) >= 0) {
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (digits == 0)
		return false;
	*p = s;
	*value = v;
	return true;
}
