/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session language's parsers: sizes, addresses, ranges, names and the
 * line splitter.  Pure functions, kept apart so that tests/unit can build
 * them alone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* ---- parsers ---- */

int parse_number(const char *text, bool suffix, uint64_t *out)
{
	unsigned long long v;
	char *end;
	unsigned int shift = 0;

	if (!text || !*text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == text || (text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && end == text + 1))
		return -EINVAL;
	if (*end && suffix) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
			end += strlen(end);
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_size(const char *text, uint64_t *out)
{
	uint64_t v;
	int err = parse_number(text, true, &v);

	if (err)
		return err;
	if (v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_address(const char *text, uint64_t *out)
{
	return parse_number(text, true, out);
}

int parse_iova_range(const char *text, uint64_t *start, uint64_t *last)
{
	char buf[64];
	char *sep;
	uint64_t a, b;
	int err;

	if (!text || strlen(text) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", text);
	sep = strpbrk(buf, "-+");
	if (!sep)
		return -EINVAL;
	char kind = *sep;

	*sep = '\0';
	err = parse_address(buf, &a);
	if (!err)
		err = kind == '+' ? parse_size(sep + 1, &b) : parse_address(sep + 1, &b);
	if (err)
		return err;
	if (kind == '+') {
		if (b - 1 > UINT64_MAX - a)
			return -ERANGE;
		b = a + b - 1;
	}
	if (b < a)
		return -EINVAL;
	*start = a;
	*last = b;
	return 0;
}

bool valid_object_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 31 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_-.", name[i]))
			return false;
	return true;
}

/* ---- the line splitter ---- */

void session_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int session_split(const char *line, char ***argv_out, char *err, size_t size)
{
	size_t cap = 8, n = 0, len = strlen(line);
	char **argv = calloc(cap, sizeof(char *));
	char *word = malloc(len + 1);
	const char *p = line;

	*argv_out = NULL;
	if (!argv || !word)
		goto nomem;
	for (;;) {
		size_t w = 0;
		bool have = false;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		while (*p && !strchr(" \t\n\r", *p)) {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');

				if (!q) {
					snprintf(err, size, "unterminated ' quote");
					goto bad;
				}
				memcpy(word + w, p + 1, (size_t)(q - p - 1));
				w += (size_t)(q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					word[w++] = *p;
				}
				if (*p != '"') {
					snprintf(err, size, "unterminated \" quote");
					goto bad;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1]) {
					snprintf(err, size, "backslash at the end of the line");
					goto bad;
				}
				word[w++] = p[1];
				p += 2;
			} else {
				word[w++] = *p++;
			}
			have = true;
		}
		if (!have)
			continue;
		word[w] = '\0';
		if (n + 2 > cap) {
			char **grown = realloc(argv, cap * 2 * sizeof(char *));

			if (!grown)
				goto nomem;
			argv = grown;
			cap *= 2;
		}
		argv[n] = strdup(word);
		if (!argv[n])
			goto nomem;
		argv[++n] = NULL;
	}
	free(word);
	*argv_out = argv;
	return (int)n;
nomem:
	snprintf(err, size, "out of memory");
bad:
	free(word);
	session_argv_free(argv);
	return -1;
}

