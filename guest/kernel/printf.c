/* SPDX-License-Identifier: BSD-2-Clause */
/* A small vsnprintf: %d %i %u %x %X %p %s %c %%, with l/ll/z, width, '0' and '-'. */
#include "kernel.h"

struct out {
	char *buf;
	size_t size;
	size_t len;     /* what the full output would take */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct spec {
	int width;
	bool zero, left;
	int longs;      /* 0, 1 (l, z) or 2 (ll) */
};

static void put_padded(struct out *o, const char *s, size_t n, const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left)
		while (pad-- > 0)
			put(o, sp->zero ? '0' : ' ');
	while (n--)
		put(o, *s++);
	if (sp->left)
		while (pad-- > 0)
			put(o, ' ');
}

static void put_number(struct out *o, uint64_t v, unsigned base, bool neg, bool upper,
		       const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = sizeof(tmp);

	do
		tmp[--n] = digits[v % base];
	while ((v /= base) != 0);
	if (neg && sp->zero && sp->width > 0) {
		struct spec narrower = *sp;
		put(o, '-');
		narrower.width--;
		return put_padded(o, tmp + n, sizeof(tmp) - n, &narrower);
	}
	if (neg)
		tmp[--n] = '-';
	put_padded(o, tmp + n, sizeof(tmp) - n, sp);
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	while (*f == 'l' || *f == 'z')
		sp->longs++, f++;
	return f;
}

static uint64_t arg_unsigned(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned);
}

static int64_t arg_signed(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, int64_t) : va_arg(*ap, int);
}

static void convert(struct out *o, char c, const struct spec *sp, va_list *ap)
{
	switch (c) {
	case 'd': case 'i': {
		int64_t v = arg_signed(ap, sp->longs);
		return put_number(o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, false, sp);
	}
	case 'u': return put_number(o, arg_unsigned(ap, sp->longs), 10, false, false, sp);
	case 'x': return put_number(o, arg_unsigned(ap, sp->longs), 16, false, false, sp);
	case 'X': return put_number(o, arg_unsigned(ap, sp->longs), 16, false, true, sp);
	case 'p':
		put(o, '0');
		put(o, 'x');
		return put_number(o, (uint64_t)va_arg(*ap, void *), 16, false, false, sp);
	case 'c': {
		char ch = (char)va_arg(*ap, int);
		return put_padded(o, &ch, 1, sp);
	}
	case 's': {
		const char *s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		return put_padded(o, s, strlen(s), sp);
	}
	default:
		put(o, '%');
		put(o, c);
	}
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp);
		if (!*fmt)
			break;
		if (*fmt == '%')
			put(&o, '%');
		else
			convert(&o, *fmt, &sp, &args);
		fmt++;
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
