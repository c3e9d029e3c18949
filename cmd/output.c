/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommuctl.h"

int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("iommuctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("iommuctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'iommuctl %s --help'.\n", cmd->name);
	else
		fputs("\nTry 'iommuctl --help'.\n", stderr);
	return EXIT_USAGE;
}

int load_failure(int err, const char *sysroot)
{
	const char *what = iommufd_topo_load_error();
	int status;

	switch (err) {
	case -EACCES:
	case -EPERM:
		status = EXIT_PERMISSION;
		break;
	case -ENOMEM:
		return fail(EXIT_FAILURE_IO, "out of memory");
	default:
		status = EXIT_FAILURE_IO;
		break;
	}
	if (!sysroot || strcmp(sysroot, "/") == 0)
		return fail(status, "/%s", what);
	return fail(status, "%s/%s", sysroot, what);
}

int emit_json(json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = fputs(text, stdout) < 0 || fputc('\n', stdout) < 0;

	json_object_put(obj);
	return err;
}

/* Look up "a.b.c" in nested objects; false when a key is missing (a null value is found). */
static bool lookup_key(json_object *obj, const char *key, json_object **value)
{
	char part[64];

	while (obj && *key) {
		const char *dot = strchr(key, '.');
		size_t len = dot ? (size_t)(dot - key) : strlen(key);

		snprintf(part, sizeof(part), "%.*s", (int)len, key);
		if (!json_object_object_get_ex(obj, part, &obj))
			return false;
		key += len + (dot ? 1 : 0);
	}
	*value = obj;
	return true;
}

/* An absent key is an empty cell (a group's columns after its first row); null is "-". */
static const char *table_cell(json_object *row, const char *key, char *buf, size_t size)
{
	json_object *value;

	return lookup_key(row, key, &value) ? cell_text(value, buf, size) : "";
}

const char *cell_text(json_object *value, char *buf, size_t size)
{
	if (!value)
		return "-";
	switch (json_object_get_type(value)) {
	case json_type_null:
		return "-";
	case json_type_boolean:
		return json_object_get_boolean(value) ? "yes" : "no";
	case json_type_string:
		return json_object_get_string(value);
	case json_type_array: {
		size_t used = 0, n = json_object_array_length(value);

		if (n == 0)
			return "-";
		buf[0] = '\0';
		for (size_t i = 0; i < n && used + 1 < size; i++) {
			char inner[128];
			const char *text = cell_text(json_object_array_get_idx(value, i), inner, sizeof(inner));

			used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", text);
		}
		return buf;
	}
	default:
		snprintf(buf, size, "%s", json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
		return buf;
	}
}

void copy_key(json_object *to, const char *as, json_object *from, const char *key)
{
	json_object *value;

	if (json_object_object_get_ex(from, key, &value))
		json_object_object_add(to, as, json_object_get(value));
}

/* Tables end their lines at the last visible character. */
static void print_trimmed(char *line)
{
	size_t len = strlen(line);

	while (len && line[len - 1] == ' ')
		line[--len] = '\0';
	puts(line);
}

void render_table(const struct column *cols, json_object *rows)
{
	size_t ncols = 0, nrows = json_object_array_length(rows);
	size_t widths[32] = { 0 };
	char buf[512];

	while (cols[ncols].header)
		ncols++;
	for (size_t c = 0; c < ncols; c++)
		widths[c] = strlen(cols[c].header);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			size_t len = strlen(table_cell(json_object_array_get_idx(rows, r), cols[c].key, buf, sizeof(buf)));
			if (len > widths[c])
				widths[c] = len;
		}
	char line[4096];
	size_t used = 0;

	for (size_t c = 0; c < ncols; c++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%-*s", c ? "  " : "",
					 (int)widths[c], cols[c].header);
	print_trimmed(line);
	for (size_t r = 0; r < nrows; r++) {
		used = 0;
		for (size_t c = 0; c < ncols && used < sizeof(line); c++) {
			const char *text = table_cell(json_object_array_get_idx(rows, r), cols[c].key, buf, sizeof(buf));

			used += (size_t)snprintf(line + used, sizeof(line) - used, cols[c].right ? "%s%*s" : "%s%-*s",
						 c ? "  " : "", (int)widths[c], text);
		}
		print_trimmed(line);
	}
}

void render_tree(json_object *obj, int indent)
{
	char buf[512];

	json_object_object_foreach(obj, key, value)
	{
		enum json_type type = value ? json_object_get_type(value) : json_type_null;

		if (type == json_type_object) {
			printf("%*s%s:\n", indent, "", key);
			render_tree(value, indent + 2);
		} else if (type == json_type_array && json_object_array_length(value) > 0 &&
			   json_object_is_type(json_object_array_get_idx(value, 0), json_type_object)) {
			printf("%*s%s:\n", indent, "", key);
			for (size_t i = 0; i < json_object_array_length(value); i++) {
				printf("%*s- #%zu\n", indent + 2, "", i + 1);
				render_tree(json_object_array_get_idx(value, i), indent + 4);
			}
		} else {
			printf("%*s%s: %s\n", indent, "", key, cell_text(value, buf, sizeof(buf)));
		}
	}
}
