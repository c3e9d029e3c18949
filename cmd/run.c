/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iommuctl run (a session over a script) and iommuctl exec (a session handed to a program). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

struct run_opts {
	bool keep_going;
};

static int run_option(const char *name, const char *arg, void *data)
{
	(void)arg;
	if (strcmp(name, "keep-going") == 0)
		((struct run_opts *)data)->keep_going = true;
	return EXIT_OK;
}

/* One JSON Lines record: line, command, ok, error, result, state. */
static void emit_line(struct session *s, long lineno, const char *text, const struct session_result *r)
{
	json_object *o = json_object_new_object(), *error = NULL;

	json_object_object_add(o, "line", json_object_new_int64(lineno));
	json_object_object_add(o, "command", json_object_new_string(text));
	json_object_object_add(o, "ok", json_object_new_boolean(r->status == 0));
	if (r->status) {
		error = json_object_new_object();
		json_object_object_add(error, "message", json_object_new_string(r->message));
		json_object_object_add(error, "errno", r->err ? json_object_new_int(r->err) : NULL);
		json_object_object_add(error, "errno_name",
				       r->err ? json_object_new_string(strerrorname_np(r->err) ? strerrorname_np(r->err) : "?")
					      : NULL);
		json_object_object_add(error, "exit_status", json_object_new_int(r->status));
	}
	json_object_object_add(o, "error", error);
	json_object_object_add(o, "result", r->result ? json_object_get(r->result) : NULL);
	json_object_object_add(o, "state", session_state(s));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

int cmd_run(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct run_opts ro = { 0 };
	int status, first = parse_command_options(cmd, g, argc, argv, run_option, &ro, &status);
	const char *name;
	struct session *s;
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int result = EXIT_OK;

	if (first < 0)
		return status;
	if (argc - first > 1)
		return usage_error(cmd, "run: one script at most (FILE or - for stdin)");
	name = first < argc ? argv[first] : "-";
	in = strcmp(name, "-") == 0 ? stdin : fopen(name, "re");
	if (!in)
		return fail(errno == ENOENT ? EXIT_NOT_FOUND : errno == EACCES ? EXIT_PERMISSION : EXIT_FAILURE_IO,
			    "%s: cannot read the script: %s", name, strerror(errno));
	s = session_new(g);
	if (!s) {
		if (in != stdin)
			fclose(in);
		return fail(EXIT_FAILURE_IO, "out of memory");
	}
	if (strcmp(name, "-") == 0)
		name = "<stdin>";
	while (getline(&line, &cap, in) >= 0) {
		struct session_result r = { 0 };
		char **words, err[128];
		int n;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		n = session_split(line, &words, err, sizeof(err));
		if (n == 0) {
			session_argv_free(words);
			continue;
		}
		if (n < 0) {
			r.status = EXIT_USAGE;
			r.err = EINVAL;
			snprintf(r.message, sizeof(r.message), "syntax error: %s", err);
		} else {
			session_execute(s, n, words, g->json, &r);
		}
		session_argv_free(words);
		if (g->json)
			emit_line(s, lineno, line, &r);
		if (r.status) {
			if (!g->json)
				fail(r.status, "%s:%ld: %s: %s", name, lineno, line, r.message);
			if (result == EXIT_OK)
				result = r.status;
		}
		session_result_clear(&r);
		if (result != EXIT_OK && !ro.keep_going)
			break;
	}
	if (ferror(in) && result == EXIT_OK)
		result = fail(EXIT_FAILURE_IO, "%s: read error: %s", name, strerror(errno));
	free(line);
	if (in != stdin)
		fclose(in);
	session_free(s);
	return result;
}

struct exec_opts {
	const char *open[32];
	bool bind[32]; /* --bind DEV: bound to the iommufd; --open DEV: opened only */
	int nopen, nbind;
	bool ioas;
};

static int exec_option(const char *name, const char *arg, void *data)
{
	struct exec_opts *eo = data;

	if (strcmp(name, "ioas") == 0) {
		eo->ioas = true;
	} else if (strcmp(name, "open") == 0 || strcmp(name, "bind") == 0) {
		if (eo->nopen == 32)
			return usage_error(find_command("exec"), "exec: at most 32 devices");
		eo->bind[eo->nopen] = strcmp(name, "bind") == 0;
		eo->nbind += eo->bind[eo->nopen];
		eo->open[eo->nopen++] = arg;
	}
	return EXIT_OK;
}

/* Run one session command for exec; prints the error. */
static int exec_step(struct session *s, int n, char **words)
{
	struct session_result r;
	int status = session_execute(s, n, words, true, &r);

	if (status)
		fail(status, "%s", r.message);
	session_result_clear(&r);
	return status;
}

int cmd_exec(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct exec_opts eo = { 0 };
	int status, child, first = parse_command_options(cmd, g, argc, argv, exec_option, &eo, &status);
	struct session_result r = { 0 };
	struct session *s;

	if (first < 0)
		return status;
	if (first == argc)
		return usage_error(cmd, "exec: no command given (iommuctl exec [--open DEV|--bind DEV]... [--ioas] -- CMD [ARGS...])");
	if (eo.ioas && !eo.nbind)
		return usage_error(cmd, "exec: --ioas attaches the devices given with --bind; --open leaves binding to CMD");
	s = session_new(g);
	if (!s)
		return fail(EXIT_FAILURE_IO, "out of memory");
	for (int i = 0; i < eo.nopen; i++) {
		char *bound[] = { "open", (char *)eo.open[i], NULL };
		char *opened[] = { "open", "--unbound", (char *)eo.open[i], NULL };

		if ((status = eo.bind[i] ? exec_step(s, 2, bound) : exec_step(s, 3, opened)))
			goto out;
	}
	if (eo.ioas) {
		char *alloc[] = { "ioas", "alloc", "exec0", NULL };

		if ((status = exec_step(s, 3, alloc)))
			goto out;
		for (int i = 0; i < eo.nopen; i++) {
			char *words[] = { "attach", (char *)eo.open[i], "exec0", NULL };

			if (eo.bind[i] && (status = exec_step(s, 3, words)))
				goto out;
		}
	}
	/* Replace this process: CMD gets our pid, signals and terminal, and its status is the status. */
	status = session_exec(s, argv + first, true, &child, &r);
	if (status)
		fail(status, "%s", r.message);
	session_result_clear(&r);
out:
	session_free(s);
	return status;
}
