/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IOMMUCTL_H
#define IOMMUCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "iommufd/topology.h"

/* The version has one home, the Makefile's VERSION, which also names the
 * shared library and the .pc file; tests/abi checks debian/changelog. */
#ifndef IOMMUCTL_VERSION_STRING
#error "IOMMUCTL_VERSION_STRING comes from the Makefile (make)"
#endif
#define IOMMUCTL_VERSION IOMMUCTL_VERSION_STRING

/* Exit statuses, documented in iommuctl(8); a script may rely on them. */
enum exit_status {
	EXIT_OK = 0,
	EXIT_NO = 1,          /* a check answered "no" */
	EXIT_USAGE = 2,       /* bad option, argument or address */
	EXIT_NOT_FOUND = 3,   /* unknown device, group or interface */
	EXIT_UNSAFE = 4,      /* refused as unsafe */
	EXIT_PERMISSION = 5,  /* permission denied */
	EXIT_PARTIAL = 6,     /* partial failure, rolled back */
	EXIT_UNSUPPORTED = 7, /* no IOMMU, or the kernel lacks a feature */
	EXIT_FAILURE_IO = 8,  /* unreadable or malformed sysfs, I/O error */
};

struct global_opts {
	bool json;
	const char *sysroot; /* NULL: the live system */
};

/* One option of a command: the single source for parsing, help, completions and man pages. */
struct cmd_option {
	const char *name;  /* long name, without "--" */
	int short_name;    /* 0 when none */
	const char *arg;   /* metavariable, NULL for a flag */
	const char *help;
	const char *complete; /* what completes the argument: "device", "group", "driver", "file", "class" */
};

struct command {
	const char *name;
	int (*run)(const struct command *cmd, struct global_opts *g, int argc, char **argv);
	const char *args;    /* positional synopsis, "" when none */
	const char *summary; /* one line */
	const struct cmd_option *options; /* terminated by {NULL} */
	const char *complete_args; /* what positional arguments complete to */
};

extern const struct command commands[];
extern const struct cmd_option global_options[];
const struct command *find_command(const char *name);

/*
 * Parse a command's options (and the global ones, which may also come after
 * the command).  Calls @on_option for each command option with its long
 * name and argument.  Returns the index of the first positional argument,
 * or -1 after printing a usage error (or help, with *exit_code = 0).
 */
int parse_command_options(const struct command *cmd, struct global_opts *g, int argc, char **argv,
			  int (*on_option)(const char *name, const char *arg, void *data), void *data,
			  int *exit_code);
void print_command_help(const struct command *cmd, FILE *out);
void print_usage(FILE *out);

/* ---- output ---- */

/* Print "iommuctl: <message>" on stderr and return @status. */
int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like fail(), adding "Try 'iommuctl COMMAND --help'." for usage errors. */
int usage_error(const struct command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Map a library -errno from loading to an exit status, printing the cause. */
int load_failure(int err, const char *sysroot);

/* Emit @obj as JSON (pretty, stable key order) and release it. */
int emit_json(json_object *obj);

/* A column of a table rendered from JSON objects. */
struct column {
	const char *header;
	const char *key; /* key in the row object; "a.b" for nested */
	bool right;      /* right-aligned */
};
/* Copy @from's value at @key (a new reference) into @to as @as; absent stays absent. */
void copy_key(json_object *to, const char *as, json_object *from, const char *key);
void viable_cell(json_object *row, json_object *group);
/* Render an array of row objects as an aligned table on stdout. */
void render_table(const struct column *cols, json_object *rows);
/* Render any JSON object as indented "key: value" lines on stdout. */
void render_tree(json_object *obj, int indent);
/* The text shown for a JSON value in a table cell ("-" for null). */
const char *cell_text(json_object *value, char *buf, size_t size);

/* ---- model ---- */

/* How much of a device or group to put in the JSON object. */
enum detail { DETAIL_LIST, DETAIL_SHOW };
json_object *json_device(const struct iommufd_pci_dev *dev, enum detail detail);
json_object *json_group(const struct iommufd_group *group, enum detail detail);
const char *device_reason(const struct iommufd_pci_dev *dev, char *buf, size_t size);

/* Load the topology, printing the cause and setting *status on failure. */
struct iommufd_topo *load_topology(struct global_opts *g, unsigned int flags, int *status);
/* Message for a host without IOMMU groups; returns EXIT_UNSUPPORTED. */
int no_iommu(void);

/*
 * Resolve a command-line name: a PCI address (full or short), a network
 * interface, or (when @groups) a group number.  Prints the error and returns
 * its exit status when it does not resolve.
 */
int resolve_target(const struct command *cmd, struct iommufd_topo *topo, const char *name, bool groups,
		   struct iommufd_pci_dev **dev, struct iommufd_group **group);
/* Parse a group number; -1 when @text is not one (too large counts as a number). */
long long parse_group_arg(const char *text);

int cmd_list(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_show(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_check(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_snapshot(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_help(const struct command *cmd, struct global_opts *g, int argc, char **argv);

/* ---- shell (cmd/shell.c): the session interpreter at a readline prompt ---- */
int cmd_shell(const struct command *cmd, struct global_opts *g, int argc, char **argv);

/* ---- probe (cmd/probe.c) ---- */
int cmd_probe(const struct command *cmd, struct global_opts *g, int argc, char **argv);

/* ---- doctor and completion (cmd/doctor.c, cmd/complete.c) ---- */

int cmd_doctor(const struct command *cmd, struct global_opts *g, int argc, char **argv);
/* `help`, plus the machine interface the completion scripts call: --commands, --options COMMAND. */
int cmd_help_complete(const struct command *cmd, struct global_opts *g, int argc, char **argv);

/* ---- session: run and exec (cmd/run.c, cmd/session.c, cmd/diagnose.c) ---- */
int cmd_run(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_exec(const struct command *cmd, struct global_opts *g, int argc, char **argv);

/* ---- binding: bind, unbind, restore (cmd/bind.c) ---- */
/* What a bind does: bind's options, and what the libvirt hook asks for. */
struct bind_request {
	const char *driver;  /* "vfio-pci" */
	bool group;          /* also the siblings that keep the group non-viable */
	bool dry_run, force;
	bool persist;        /* leave a udev rule that binds again at boot */
	const char *owner;   /* journal owner (iommufd_binder_set_owner()), NULL for none */
	bool from_hook;      /* refusals advise the libvirt hook's policy, not bind's options */
};
/*
 * Bind the devices or groups @names as @r says: lock, check, journal, bind,
 * roll back on failure.  Prints errors; prints the result as a table or JSON,
 * or, when @result is set, hands the JSON object over instead.  Returns the
 * exit status.
 */
int bind_devices(const struct command *cmd, struct global_opts *g, const struct bind_request *r, char **names, int count,
		 json_object **result);
/*
 * Give back every device whose journal entry has owner @owner (NULL: every
 * entry), each under its group lock.  @result receives {"devices": [...]},
 * or NULL when the journal could not be read.  Returns the exit status.
 */
int restore_owned(struct global_opts *g, const char *owner, json_object **result);
int cmd_bind(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_unbind(const struct command *cmd, struct global_opts *g, int argc, char **argv);
int cmd_restore(const struct command *cmd, struct global_opts *g, int argc, char **argv);
/* cmd/libvirt-hook.c */
int cmd_libvirt_hook(const struct command *cmd, struct global_opts *g, int argc, char **argv);
/* For list/show: the device's "journal" object (null when iommuctl did not rebind it). */
json_object *json_device_journal(const struct iommufd_pci_dev *dev);
/* Which journal json_device_journal() reads: the one of --sysroot (NULL: the live system). */
void bind_model_sysroot(const char *sysroot);

#endif
