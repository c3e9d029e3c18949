/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern char **environ;

int ptr_vec_push(struct ptr_vec *vec, void *item)
{
	if (vec->count == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 16;
		void **items = realloc(vec->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		vec->items = items;
		vec->cap = cap;
	}
	vec->items[vec->count++] = item;
	return 0;
}

void ptr_vec_free(struct ptr_vec *vec)
{
	free(vec->items);
	vec->items = NULL;
	vec->count = vec->cap = 0;
}

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static void str_set_place(char **slots, size_t cap, char *s)
{
	size_t j = hash_str(s) & (cap - 1);

	while (slots[j])
		j = (j + 1) & (cap - 1);
	slots[j] = s;
}

int str_set_add(struct str_set *set, const char *s, bool *added)
{
	size_t j;

	if (added)
		*added = false;
	if (2 * (set->used + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		char **slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i])
				str_set_place(slots, cap, set->slots[i]);
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	for (j = hash_str(s) & (set->cap - 1); set->slots[j]; j = (j + 1) & (set->cap - 1))
		if (strcmp(set->slots[j], s) == 0)
			return 0;
	set->slots[j] = strdup(s);
	if (!set->slots[j])
		return -ENOMEM;
	set->used++;
	if (added)
		*added = true;
	return 0;
}

bool str_set_contains(const struct str_set *set, const char *s)
{
	if (!set->cap)
		return false;
	for (size_t j = hash_str(s) & (set->cap - 1); set->slots[j]; j = (j + 1) & (set->cap - 1))
		if (strcmp(set->slots[j], s) == 0)
			return true;
	return false;
}

void str_set_free(struct str_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int parse_hex_attr(const char *text, unsigned int max_digits, uint32_t *value)
{
	uint32_t v = 0;
	unsigned int n = 0;

	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
		return -EINVAL;
	for (text += 2; *text; text++, n++) {
		int d = hex_digit((unsigned char)*text);

		if (d < 0 || n >= max_digits)
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	if (n == 0)
		return -EINVAL;
	*value = v;
	return 0;
}

/* Parse exactly @digits hex digits at @text. */
static int hex_field(const char *text, unsigned int digits, unsigned int *value)
{
	unsigned int v = 0;

	for (unsigned int i = 0; i < digits; i++) {
		int d = hex_digit((unsigned char)text[i]);

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (unsigned int)d;
	}
	*value = v;
	return 0;
}

/*
 * "[DOMAIN:]BB:SS.F": the domain is 4 hex digits, or 5 to 8 without a leading
 * zero (Linux prints it "%04x", so Intel VMD's 0x10000 is "10000").
 */
int parse_pci_address(const char *text, char full[IOMMUFD_PCI_ADDRESS_SIZE])
{
	unsigned int domain = 0, bus, slot, func;
	size_t len = strlen(text);

	if (len > 7) {
		size_t digits = len - 8;

		if (digits < 4 || digits > 8 || (digits > 4 && text[0] == '0') || hex_field(text, (unsigned int)digits, &domain) ||
		    text[digits] != ':')
			return -EINVAL;
		text += digits + 1;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (hex_field(text, 2, &bus) || text[2] != ':' || hex_field(text + 3, 2, &slot) ||
	    text[5] != '.' || text[6] < '0' || text[6] > '7')
		return -EINVAL;
	func = (unsigned int)(text[6] - '0');
	if (slot > 0x1f)
		return -EINVAL;
	snprintf(full, IOMMUFD_PCI_ADDRESS_SIZE, "%04x:%02x:%02x.%u", domain, bus, slot, func);
	return 0;
}

/* LIBIOMMUFD_0.1: a 13-byte buffer, so domains up to ffff only. */
IOMMUFD_EXPORT int iommufd_parse_pci_address(const char *text, char full[13])
{
	char wide[IOMMUFD_PCI_ADDRESS_SIZE];
	int err = parse_pci_address(text, wide);

	if (err)
		return err;
	if (strlen(wide) > 12)
		return -ERANGE;
	memcpy(full, wide, 13);
	return 0;
}

IOMMUFD_EXPORT int iommufd_pci_address_parse(const char *text, char *full, size_t size)
{
	char wide[IOMMUFD_PCI_ADDRESS_SIZE];
	int err = parse_pci_address(text, wide);

	if (err)
		return err;
	if (strlen(wide) >= size)
		return -ENOSPC;
	memcpy(full, wide, strlen(wide) + 1);
	return 0;
}

int parse_resv_line(const char *line, struct iommufd_resv_region *region)
{
	char type[sizeof(region->type)];
	uint64_t start, end;
	int consumed = 0;

	if (sscanf(line, "0x%" SCNx64 " 0x%" SCNx64 " %23s%n", &start, &end, type, &consumed) != 3)
		return -EINVAL;
	while (line[consumed] == ' ' || line[consumed] == '\t')
		consumed++;
	if (line[consumed] != '\0' || end < start)
		return -EINVAL;
	region->start = start;
	region->end = end;
	memcpy(region->type, type, sizeof(type));
	return 0;
}

int parse_devt(const char *text, unsigned int *major, unsigned int *minor)
{
	char *end;
	unsigned long ma, mi;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	ma = strtoul(text, &end, 10);
	if (*end != ':' || !isdigit((unsigned char)end[1]))
		return -EINVAL;
	mi = strtoul(end + 1, &end, 10);
	if (*end != '\0' || ma > 0xfff || mi > 0xfffff)
		return -EINVAL;
	*major = (unsigned int)ma;
	*minor = (unsigned int)mi;
	return 0;
}

int run_modprobe(const char *module)
{
	char *argv[] = { "modprobe", "-q", "--", (char *)module, NULL };
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) != 0)
		return -ENOENT;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}
