/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommuctl shell: the session interpreter (session.c) at a readline prompt,
 * with history and completion of commands, options, the PCI addresses of
 * VFIO-bound devices and the session's objects.  `run` is the same
 * interpreter over a script.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "session.h"

/* Readline's completion callbacks take no context argument. */
static struct session *shell_session;
static struct global_opts shell_opts;

static const char *const shell_builtins[] = { "help", "quit", "exit", NULL };

/* ---- candidates ---- */

struct candidates {
	char **items;
	size_t count, cap;
};

static void add_candidate(struct candidates *c, const char *word, const char *prefix)
{
	if (strncmp(word, prefix, strlen(prefix)) != 0)
		return;
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->items[i], word) == 0)
			return;
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		char **items = realloc(c->items, cap * sizeof(*items));

		if (!items)
			return;
		c->items = items;
		c->cap = cap;
	}
	c->items[c->count] = strdup(word);
	if (c->items[c->count])
		c->count++;
}

/* The first word of each command ("ioas" for "ioas map"), or the second after @first. */
static void add_command_words(struct candidates *c, const char *first, const char *prefix)
{
	for (const struct session_command *sc = session_commands(); sc->name; sc++) {
		const char *space = strchr(sc->name, ' ');

		if (!first) {
			char word[64];

			snprintf(word, sizeof(word), "%.*s", space ? (int)(space - sc->name) : (int)strlen(sc->name),
				 sc->name);
			add_candidate(c, word, prefix);
		} else if (space && strncmp(sc->name, first, (size_t)(space - sc->name)) == 0 &&
			   strlen(first) == (size_t)(space - sc->name)) {
			add_candidate(c, space + 1, prefix);
		}
	}
	if (!first)
		for (const char *const *b = shell_builtins; *b; b++)
			add_candidate(c, *b, prefix);
}

/* PCI addresses of devices bound to a VFIO driver: the ones `open` can take. */
static void add_vfio_devices(struct candidates *c, const char *prefix)
{
	struct iommufd_topo *topo;

	if (iommufd_topo_load(shell_opts.sysroot, 0, &topo) != 0)
		return;
	for (size_t i = 0; i < iommufd_topo_dev_count(topo); i++) {
		const struct iommufd_pci_dev *dev = iommufd_topo_dev(topo, i);

		if (iommufd_dev_driver_is_vfio(dev))
			add_candidate(c, iommufd_dev_address(dev), prefix);
	}
	iommufd_topo_free(topo);
}

/* The session's objects, by kernel id and by name. */
static void add_objects(struct candidates *c, const char *prefix)
{
	json_object *state = session_state(shell_session), *objs, *v;

	if (json_object_object_get_ex(state, "objects", &objs))
		for (size_t i = 0; i < json_object_array_length(objs); i++) {
			json_object *o = json_object_array_get_idx(objs, i);

			if (json_object_object_get_ex(o, "id", &v) && v)
				add_candidate(c, json_object_get_string(v), prefix);
			if (json_object_object_get_ex(o, "name", &v) && v)
				add_candidate(c, json_object_get_string(v), prefix);
		}
	json_object_put(state);
}

/* The command named by the leading words, longest match first ("ioas map" before "ioas"). */
static const struct session_command *match_command(char **words, int nwords, int *used)
{
	const struct session_command *best = NULL;

	for (const struct session_command *sc = session_commands(); sc->name; sc++) {
		char name[64];
		int n = 0;
		bool ok = true;

		snprintf(name, sizeof(name), "%s", sc->name);
		for (char *save = NULL, *w = strtok_r(name, " ", &save); w; w = strtok_r(NULL, " ", &save), n++)
			ok &= n < nwords && strcmp(words[n], w) == 0;
		if (ok && (!best || n > *used)) {
			best = sc;
			*used = n;
		}
	}
	return best;
}

/* Which kind of thing the positional argument @index of @sc is: from its synopsis. */
static const char *positional_kind(const struct session_command *sc, int index)
{
	char args[256];
	int n = 0;

	snprintf(args, sizeof(args), "%s", sc->args ? sc->args : "");
	for (char *save = NULL, *w = strtok_r(args, " []", &save); w; w = strtok_r(NULL, " []", &save)) {
		if (w[0] == '-' || strcmp(w, "...") == 0)
			continue;
		if (n++ == index || strstr(w, "..."))
			return strstr(w, "DEV") ? "device"
			       : strstr(w, "IOAS") || strstr(w, "HWPT") || strstr(w, "ID") ? "object"
										    : "other";
	}
	return "other";
}

static char **shell_complete(const char *text, int start, int end)
{
	struct candidates c = { 0 };
	char **words = NULL, err[128];
	char *before = strndup(rl_line_buffer, (size_t)start);
	int nwords = before ? session_split(before, &words, err, sizeof(err)) : -1;

	(void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	if (nwords <= 0) {
		add_command_words(&c, NULL, text);
	} else {
		int used = 0;
		const struct session_command *sc = match_command(words, nwords, &used);

		if (!sc && nwords == 1) {
			add_command_words(&c, words[0], text);
		} else if (sc && text[0] == '-') {
			for (const struct cmd_option *o = sc->options; o && o->name; o++) {
				char opt[64];

				snprintf(opt, sizeof(opt), "--%s", o->name);
				add_candidate(&c, opt, text);
			}
		} else if (sc) {
			int index = 0;

			for (int i = used; i < nwords; i++)
				index += words[i][0] != '-';
			const char *kind = positional_kind(sc, index);
			if (strcmp(kind, "device") == 0)
				add_vfio_devices(&c, text);
			else if (strcmp(kind, "object") == 0)
				add_objects(&c, text);
		} else if (nwords == 1 && strcmp(words[0], "help") == 0) {
			add_command_words(&c, NULL, text);
		}
	}
	session_argv_free(words);
	free(before);
	if (c.count == 0) {
		free(c.items);
		return NULL;
	}
	/* Readline wants [common prefix, candidates..., NULL]. */
	char **out = calloc(c.count + 2, sizeof(*out));
	if (!out) {
		for (size_t i = 0; i < c.count; i++)
			free(c.items[i]);
		free(c.items);
		return NULL;
	}
	size_t common = strlen(c.items[0]);
	for (size_t i = 1; i < c.count; i++)
		for (size_t k = 0; k < common; k++)
			if (c.items[i][k] != c.items[0][k]) {
				common = k;
				break;
			}
	out[0] = c.count == 1 ? strdup(c.items[0]) : strndup(c.items[0], common);
	for (size_t i = 0; c.count > 1 && i < c.count; i++)
		out[i + 1] = c.items[i];
	if (c.count == 1)
		free(c.items[0]);
	free(c.items);
	return out;
}

/* ---- the loop ---- */

static void shell_help(char **argv, int argc)
{
	for (const struct session_command *sc = session_commands(); sc->name; sc++) {
		if (argc > 1 && strncmp(sc->name, argv[1], strlen(argv[1])) != 0)
			continue;
		printf("  %-12s %-34s %s\n", sc->name, sc->args ? sc->args : "", sc->summary);
		for (const struct cmd_option *o = sc->options; argc > 1 && o && o->name; o++)
			printf("      --%s%s%s  %s\n", o->name, o->arg ? " " : "", o->arg ? o->arg : "", o->help);
	}
	if (argc <= 1)
		printf("  %-12s %-34s %s\n", "quit", "", "close every device and leave (also Ctrl-D)");
}

/* "iommuctl[2 open, 1 ioas]> ": what the session holds, at a glance. */
static void make_prompt(char *buf, size_t size)
{
	json_object *state = session_state(shell_session), *arr, *v;
	size_t open = 0, objs = 0;

	if (json_object_object_get_ex(state, "devices", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "in_session", &v) &&
			    json_object_get_boolean(v))
				open++;
	if (json_object_object_get_ex(state, "objects", &arr))
		objs = json_object_array_length(arr);
	json_object_put(state);
	if (open || objs)
		snprintf(buf, size, "iommuctl[%zu dev, %zu obj]> ", open, objs);
	else
		snprintf(buf, size, "iommuctl> ");
}

static char *history_path(void)
{
	const char *explicit = getenv("IOMMUCTL_HISTORY"), *home = getenv("HOME");
	char *path = NULL;

	if (explicit)
		return *explicit ? strdup(explicit) : NULL; /* "" turns history files off */
	if (home && asprintf(&path, "%s/.iommuctl_history", home) < 0)
		path = NULL;
	return path;
}

/*
 * The history file is read and written only when it is absent or a regular
 * file of ours: never through a link someone planted in $HOME (readline
 * follows links).  Returns false, after saying why, when it must not be used.
 */
static bool history_usable(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT;
	if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
		return true;
	fprintf(stderr, "iommuctl: %s: not a regular file of yours (a link?); history not read or saved\n", path);
	return false;
}

int cmd_shell(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	int status, first = parse_command_options(cmd, g, argc, argv, NULL, NULL, &status);
	char *hist, *line;
	int last = EXIT_OK;

	if (first < 0)
		return status;
	if (first < argc)
		return usage_error(cmd, "shell: unexpected argument %s (for a script, use 'iommuctl run FILE')",
				   argv[first]);
	shell_opts = *g;
	shell_session = session_new(g);
	if (!shell_session)
		return fail(EXIT_FAILURE_IO, "out of memory");
	rl_readline_name = "iommuctl";
	rl_attempted_completion_function = shell_complete;
	rl_completer_word_break_characters = " \t";
	bool interactive = isatty(STDIN_FILENO);

	hist = interactive ? history_path() : NULL;
	if (hist && !history_usable(hist)) {
		free(hist);
		hist = NULL;
	}
	using_history();
	if (hist)
		read_history(hist); /* a first run has none */
	if (interactive)
		printf("iommuctl %s shell: 'help' lists the commands, Tab completes, Ctrl-D leaves.\n", IOMMUCTL_VERSION);
	for (;;) {
		char **words = NULL, err[256];
		int n;

		/* Readline echoes what it reads; from a pipe that is noise, so read plainly. */
		if (interactive) {
			char prompt[64];

			make_prompt(prompt, sizeof(prompt));
			line = readline(prompt);
		} else {
			size_t cap = 0;

			line = NULL;
			if (getline(&line, &cap, stdin) < 0) {
				free(line);
				line = NULL;
			} else {
				line[strcspn(line, "\n")] = '\0';
			}
		}
		if (!line)
			break;
		n = session_split(line, &words, err, sizeof(err));
		if (n > 0 && (!history_length || strcmp(history_get(history_base + history_length - 1)->line, line) != 0))
			add_history(line);
		free(line);
		if (n <= 0) {
			if (n < 0)
				last = fail(EXIT_USAGE, "%s", err);
			session_argv_free(words);
			continue;
		}
		if (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0) {
			session_argv_free(words);
			break;
		}
		if (strcmp(words[0], "help") == 0) {
			shell_help(words, n);
			last = EXIT_OK;
		} else {
			struct session_result r = { 0 };

			last = session_execute(shell_session, n, words, g->json, &r);
			if (g->json && r.result)
				emit_json(json_object_get(r.result));
			if (last != EXIT_OK && r.message[0])
				fprintf(stderr, "iommuctl: %s\n", r.message);
			session_result_clear(&r);
		}
		fflush(stdout);
		session_argv_free(words);
	}
	if (hist) {
		stifle_history(1000);
		if (!history_usable(hist)) /* again: the session may have been long */
			;
		else if (write_history(hist) != 0)
			fprintf(stderr, "iommuctl: %s: history not saved: %s\n", hist, strerror(errno));
		free(hist);
	}
	if (interactive)
		putchar('\n');
	session_free(shell_session);
	shell_session = NULL;
	/* Like a shell: the status of the last command. */
	return last;
}
