/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommuctl.h"

const struct cmd_option global_options[] = {
	{ "json", 'j', NULL, "print JSON instead of a table", NULL },
	{ "sysroot", 0, "DIR", "read sysfs and proc under DIR instead of /", "dir" },
	{ "help", 'h', NULL, "show help and exit", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option list_options[] = {
	{ "group", 'g', "N", "only group N", "group" },
	{ "device", 'd', "DEV", "only the group of device DEV, and DEV in it", "device" },
	{ "driver", 0, "NAME", "only devices bound to driver NAME (\"none\" for driver-less)", "driver" },
	{ "class", 'c', "HEX", "only devices whose class starts with HEX (02, 0200, 0x020000)", "class" },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option check_options[] = {
	{ "assume-vfio", 0, NULL, "answer as if the named devices were bound to vfio-pci", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option probe_options[] = {
	{ "force", 0, NULL, "unbind a device from its kernel driver for the probe (bound back afterwards)", NULL },
	{ "length", 0, "SIZE", "map SIZE bytes (4K, 2M, 1G; default 2M)", NULL },
	{ "hugepages", 0, NULL, "map 2 MiB huge pages (needs vm.nr_hugepages)", NULL },
	{ "timeout", 0, "SEC", "wait SEC seconds for the VFIO cdev after binding (default 5)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option help_options[] = {
	{ "commands", 0, NULL, "for completion scripts: print one line per command", NULL },
	{ "options", 0, NULL, "for completion scripts: print the options of COMMAND, one per line", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option doctor_options[] = {
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option run_options[] = {
	{ "keep-going", 'k', NULL, "go on after a failing line (the status is the first failure's)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option exec_options[] = {
	{ "open", 0, "DEV", "open DEV's cdev unbound, for CMD to bind, as QEMU does (repeatable; {device:N} counts in order)", "device" },
	{ "bind", 0, "DEV", "open DEV's cdev and bind it to the iommufd (blocked) before CMD starts (repeatable)", "device" },
	{ "ioas", 0, NULL, "allocate an IOAS and attach every --bind device to it", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option bind_options[] = {
	{ "driver", 0, "NAME", "bind to driver NAME (default vfio-pci; its module is loaded when needed)", "driver" },
	{ "group", 0, NULL, "also bind the siblings that would keep the group non-viable (not bridges)", NULL },
	{ "dry-run", 'n', NULL, "say what would be done, change nothing", NULL },
	{ "force", 0, NULL, "bind even a device in use, or one that leaves its group non-viable", NULL },
	{ "persist", 0, NULL, "bind again at every boot (a udev rule; unbind removes it)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option hook_options[] = {
	{ "policy", 0, "POLICY", "check (default), bind, or bind-group: what prepare may do", "policy" },
	{ "config", 0, "FILE", "read the policy from FILE (default /etc/iommuctl/libvirt-hook.conf)", "file" },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option unbind_options[] = {
	{ "force", 0, NULL, "give back even a device a process holds open (waits until it lets go)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option restore_options[] = {
	{ "all", 0, NULL, "give back every device in the journal (after a crash)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static const struct cmd_option no_options[] = {
	{ NULL, 0, NULL, NULL, NULL },
};

const struct command commands[] = {
	{ "list", cmd_list, "", "list IOMMU groups and their devices", list_options, NULL },
	{ "show", cmd_show, "DEV|GROUP...", "show everything known about devices or groups", no_options,
	  "device group" },
	{ "check", cmd_check, "[DEV|GROUP...]", "check whether groups can be owned by user space",
	  check_options, "device group" },
	{ "snapshot", cmd_snapshot, "FILE.tar", "capture the sysfs files iommuctl reads, for --sysroot",
	  no_options, "file" },
	{ "probe", cmd_probe, "DEV...", "check that devices are ready for iommufd assignment, step by step",
	  probe_options, "device" },
	{ "doctor", cmd_doctor, "", "check whether this host is ready for device assignment, and what to fix",
	  doctor_options, NULL },
	{ "run", cmd_run, "[FILE|-]", "run a session script: open, attach, map, exec... (iommuctl-session(7))",
	  run_options, "file" },
	{ "exec", cmd_exec, "[--open DEV|--bind DEV]... [--ioas] -- CMD [ARGS...]",
	  "open devices in a session and run CMD with the iommufd and device fds", exec_options, NULL },
	{ "shell", cmd_shell, "", "an interactive session with history and completion (iommuctl-session(7))",
	  no_options, NULL },
	{ "bind", cmd_bind, "DEV|GROUP...", "bind devices to vfio-pci (or --driver) safely, journaled, all or nothing",
	  bind_options, "device group" },
	{ "unbind", cmd_unbind, "DEV|GROUP...", "give devices iommuctl bound back to their original drivers",
	  unbind_options, "device group" },
	{ "restore", cmd_restore, "--all", "give back every device in the journal (after a crash)", restore_options,
	  NULL },
	{ "libvirt-hook", cmd_libvirt_hook, "DOMAIN OPERATION SUB-OPERATION [EXTRA]",
	  "libvirt's qemu hook: check (or bind) a domain's PCI hostdevs at prepare, give them back at release",
	  hook_options, NULL },
	{ "help", cmd_help_complete, "[COMMAND]", "show help for a command", help_options, "command" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct command *find_command(const char *name)
{
	/* Exact match only: a prefix that works today breaks scripts tomorrow. */
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

static void print_options(const struct cmd_option *opts, FILE *out)
{
	for (const struct cmd_option *o = opts; o->name; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-24s %s\n", left, o->help);
	}
}

void print_usage(FILE *out)
{
	fprintf(out, "Usage: iommuctl [OPTIONS] COMMAND [ARGS]\n\n"
		     "Inspect IOMMU groups and hand PCI devices to user space safely.\n\nCommands:\n");
	for (const struct command *cmd = commands; cmd->name; cmd++)
		fprintf(out, "  %-10s %s\n", cmd->name, cmd->summary);
	fprintf(out, "\nOptions:\n");
	print_options(global_options, out);
	fprintf(out, "  -V, --version            show the version and exit\n"
		     "\nA device is a PCI address (0000:01:00.0 or 01:00.0) or a network interface;\n"
		     "a group is its number. See 'iommuctl help COMMAND' and iommuctl(8).\n");
}

void print_command_help(const struct command *cmd, FILE *out)
{
	fprintf(out, "Usage: iommuctl %s [OPTIONS]%s%s\n\n%c%s.\n\nOptions:\n", cmd->name, cmd->args[0] ? " " : "",
		cmd->args, cmd->summary[0] - 'a' + 'A', cmd->summary + 1);
	print_options(cmd->options, out);
	print_options(global_options, out);
}

int cmd_help(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	int status, first = parse_command_options(cmd, g, argc, argv, NULL, NULL, &status);
	const struct command *about;

	if (first < 0)
		return status;
	if (first == argc) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (argc - first > 1)
		return usage_error(cmd, "help: too many arguments");
	about = find_command(argv[first]);
	if (!about)
		return usage_error(cmd, "%s: unknown command", argv[first]);
	print_command_help(about, stdout);
	return EXIT_OK;
}

static const struct cmd_option *find_short_option(const struct cmd_option *opts, int c)
{
	for (const struct cmd_option *o = opts; o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

/* Append @opts to a getopt_long table and optstring; option values index @names. */
static void add_getopt(const struct cmd_option *opts, struct option *longopts, size_t *n, char *shortopts,
		       const char **names)
{
	for (const struct cmd_option *o = opts; o->name; o++) {
		longopts[*n] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
						(int)(256 + *n) };
		names[*n] = o->name;
		if (o->short_name) {
			size_t len = strlen(shortopts);

			shortopts[len++] = (char)o->short_name;
			if (o->arg)
				shortopts[len++] = ':';
			shortopts[len] = '\0';
		}
		(*n)++;
	}
}

int parse_command_options(const struct command *cmd, struct global_opts *g, int argc, char **argv,
			  int (*on_option)(const char *name, const char *arg, void *data), void *data,
			  int *exit_code)
{
	struct option longopts[64];
	const char *names[64];
	char shortopts[128] = "+";
	size_t n = 0;
	int c;

	*exit_code = EXIT_USAGE;
	add_getopt(cmd->options, longopts, &n, shortopts, names);
	add_getopt(global_options, longopts, &n, shortopts, names);
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	optind = 0; /* 0, not 1: glibc re-initialises its hidden state only then */
	/* Options may follow positionals ("show 01:00.0 -j"): stop only at "--". */
	shortopts[0] = '-';
	int first_positional = -1;
	char **positional = calloc((size_t)argc + 1, sizeof(char *));
	int npos = 0;

	if (!positional) {
		*exit_code = fail(EXIT_FAILURE_IO, "out of memory");
		return -1;
	}
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const char *name = NULL;

		if (c == 1) {
			positional[npos++] = optarg;
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt && optopt < 256 && !strchr(shortopts, optopt))
				*exit_code = usage_error(cmd, "%s: unknown option -%c", cmd->name, optopt);
			else if (optopt && optopt < 256)
				*exit_code = usage_error(cmd, "%s: option -%c needs an argument", cmd->name, optopt);
			else if (optopt >= 256)
				*exit_code = usage_error(cmd, "%s: option %s needs an argument", cmd->name, bad);
			else
				*exit_code = usage_error(cmd, "%s: unknown option %s", cmd->name, bad);
			free(positional);
			return -1;
		}
		if (c >= 256) {
			name = names[c - 256];
		} else {
			const struct cmd_option *o = find_short_option(cmd->options, c);

			name = o ? o->name : find_short_option(global_options, c)->name;
		}
		if (!name)
			continue;
		if (strcmp(name, "json") == 0) {
			g->json = true;
		} else if (strcmp(name, "sysroot") == 0) {
			g->sysroot = optarg;
		} else if (strcmp(name, "help") == 0) {
			print_command_help(cmd, stdout);
			*exit_code = EXIT_OK;
			free(positional);
			return -1;
		} else if (on_option) {
			int status = on_option(name, optarg, data);

			if (status != EXIT_OK) {
				*exit_code = status;
				free(positional);
				return -1;
			}
		}
	}
	/* Put positionals (and anything after "--") at the end, in order. */
	for (int i = optind; i < argc; i++)
		positional[npos++] = argv[i];
	first_positional = argc - npos;
	for (int i = 0; i < npos; i++)
		argv[first_positional + i] = positional[i];
	free(positional);
	return first_positional;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysroot", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { 0 };
	const struct command *cmd;
	int c, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			g.json = true;
			break;
		case 's':
			g.sysroot = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		case 'V':
			if (g.json)
				return emit_json(json_object_new_string(IOMMUCTL_VERSION)) ? EXIT_FAILURE_IO : EXIT_OK;
			printf("iommuctl %s\n", IOMMUCTL_VERSION);
			return fflush(stdout) ? EXIT_FAILURE_IO : EXIT_OK;
		default:
			if (optopt == 's' || (optopt == 0 && strcmp(argv[optind - 1], "--sysroot") == 0))
				return usage_error(NULL, "option --sysroot needs an argument");
			if (optopt)
				return usage_error(NULL, "unknown option -%c", optopt);
			return usage_error(NULL, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return usage_error(NULL, "no command given");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error(NULL, "%s: unknown command", argv[optind]);
	status = cmd->run(cmd, &g, argc - optind, argv + optind);
	/* A full disk or closed pipe must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "iommuctl: write error: %s\n", strerror(errno));
		return status ? status : EXIT_FAILURE_IO;
	}
	return status;
}
