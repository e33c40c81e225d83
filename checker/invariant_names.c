/* SPDX-License-Identifier: BSD-2-Clause */
/* The invariant catalogue as strings: ID names, descriptions, parsing of --inject lists. */
#include "invariant_names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

_Static_assert(INV_COUNT <= 64, "inject masks are 64 bits wide");

static const char *const names[INV_COUNT] = {
#define NAME(id, text) [INV_##id] = #id,
	HATVM_INVARIANTS(NAME)
#undef NAME
};

static const char *const descriptions[INV_COUNT] = {
#define DESCRIPTION(id, text) [INV_##id] = text,
	HATVM_INVARIANTS(DESCRIPTION)
#undef DESCRIPTION
};

const char *invariant_name(enum invariant_id id)
{
	return (unsigned)id < INV_COUNT ? names[id] : "UNKNOWN";
}

const char *invariant_description(enum invariant_id id)
{
	return (unsigned)id < INV_COUNT ? descriptions[id] : "unknown invariant";
}

bool invariant_parse(const char *name, enum invariant_id *id)
{
	for (unsigned i = 0; i < INV_COUNT; i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*id = (enum invariant_id)i;
			return true;
		}
	}
	return false;
}

/* Parses list[0..len) as one ID; the item is not NUL-terminated. */
static bool parse_item(const char *item, size_t len, enum invariant_id *id)
{
	char name[32];

	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, item, len);
	name[len] = '\0';
	return invariant_parse(name, id);
}

bool invariant_parse_mask(const char *list, uint64_t *mask, char *err, size_t errlen)
{
	uint64_t bits = 0;
	const char *item = list;

	for (;;) {
		size_t len = strcspn(item, ",");
		enum invariant_id id;

		if (!parse_item(item, len, &id)) {
			if (err && errlen && len == 0)
				snprintf(err, errlen, "empty invariant name in '%.64s'", list);
			else if (err && errlen)
				snprintf(err, errlen, "unknown invariant '%.*s'", (int)(len > 64 ? 64 : len), item);
			return false;
		}
		bits |= 1ull << id;
		if (item[len] == '\0')
			break;
		item += len + 1;
	}
	*mask = bits;
	return true;
}
