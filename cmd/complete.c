/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine interface the completion scripts call, so that they never list
 * a command or an option by hand (see completions/ and doc/contracts.md):
 *
 *   iommuctl help --commands        NAME<TAB>ARGS-COMPLETE<TAB>SUMMARY per command
 *   iommuctl help --options COMMAND option<TAB>--LONG<TAB>-S<TAB>ARG<TAB>COMPLETE per option,
 *                                   then args<TAB>COMPLETE
 *   iommuctl help --options         the same for the options before the command
 *
 * "-" stands for an empty field.  Global options come after the command's.
 * COMPLETE words: device, group, driver, file, dir, class, command, policy.
 */
#include <string.h>

#include "iommuctl.h"

struct help_flags {
	bool commands, options;
};

static int help_option(const char *name, const char *arg, void *data)
{
	struct help_flags *f = data;

	(void)arg;
	if (strcmp(name, "commands") == 0)
		f->commands = true;
	else if (strcmp(name, "options") == 0)
		f->options = true;
	return EXIT_OK;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_option_lines(const struct cmd_option *opts)
{
	for (const struct cmd_option *o = opts; o->name; o++) {
		char shortname[3] = "-";

		if (o->short_name) {
			shortname[1] = (char)o->short_name;
			shortname[2] = '\0';
		}
		printf("option\t--%s\t%s\t%s\t%s\n", o->name, shortname, dash(o->arg), dash(o->complete));
	}
}

int cmd_help_complete(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct help_flags f = { false, false };
	const struct command *about;
	int status, first;

	first = parse_command_options(cmd, g, argc, argv, help_option, &f, &status);
	if (first < 0)
		return status;
	if (!f.commands && !f.options)
		return cmd_help(cmd, g, argc, argv);
	if (f.commands && f.options)
		return usage_error(cmd, "help: --commands and --options exclude each other");
	if (f.commands) {
		if (first != argc)
			return usage_error(cmd, "help: --commands takes no arguments");
		for (const struct command *c = commands; c->name; c++)
			printf("%s\t%s\t%s\n", c->name, dash(c->complete_args), c->summary);
		return EXIT_OK;
	}
	if (argc - first > 1)
		return usage_error(cmd, "help: --options takes at most one COMMAND");
	if (argc == first) {
		/* Before the command: the global options, then the command itself. */
		print_option_lines(global_options);
		printf("option\t--version\t-V\t-\t-\n");
		printf("args\tcommand\n");
		return EXIT_OK;
	}
	about = find_command(argv[first]);
	if (!about)
		return usage_error(cmd, "%s: unknown command", argv[first]);
	print_option_lines(about->options);
	print_option_lines(global_options);
	printf("args\t%s\n", dash(about->complete_args));
	return EXIT_OK;
}
