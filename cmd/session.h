/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IOMMUCTL_SESSION_H
#define IOMMUCTL_SESSION_H

/*
 * The session: one iommufd, the devices opened in it and the objects (IOAS,
 * HWPT) made in it, driven by lines of the session command language
 * (iommuctl-session(7)).  `iommuctl run` feeds it a script, `iommuctl exec`
 * a few commands and then hands its fds to another program, and the
 * interactive shell feeds it what the user types.
 *
 * Every command builds one json-c object (its result); the text view is
 * rendered from that object.  Nothing here exits the process.
 */

#include <stddef.h>
#include <stdint.h>

#include "iommuctl.h"

struct session;

/* What one command did. */
struct session_result {
	int status;          /* exit status (contracts.md); 0 on success */
	int err;             /* the errno behind the failure (positive), 0 if none */
	char message[2048];  /* "<object>: <what>: <why>" on failure, "" on success */
	json_object *result; /* the command's result object (owned; may be NULL) */
};

/**
 * session_new() - an empty session.  The iommufd is opened by the first
 * command that needs it, so read-only commands work without /dev/iommu.
 * @g: global options (sysroot, json); copied.
 * Return: the session, or NULL when out of memory.
 */
struct session *session_new(const struct global_opts *g);

/** session_free() - close every device, free the iommufd, release the session's memory. */
void session_free(struct session *s);

/**
 * session_split() - split one line into words: blanks separate, '...' is
 * literal, "..." allows \" and \\, a backslash escapes the next character
 * outside quotes, and a '#' at the start of a word begins a comment.
 * @argv: receives a NULL-terminated array (free with session_argv_free()).
 * Return: the number of words (0 for a blank or comment line), or -1 with
 * @err describing the syntax error.
 */
int session_split(const char *line, char ***argv, char *err, size_t size);
void session_argv_free(char **argv);

/**
 * session_execute() - run one command (argv[0] is its name, "ioas map ...").
 * @quiet: do not print the result (the caller renders @r->result itself,
 * e.g. as JSON Lines); when false, the text view goes to stdout.
 * Return: r->status.  The caller releases r->result with session_result_clear().
 */
int session_execute(struct session *s, int argc, char **argv, bool quiet, struct session_result *r);
void session_result_clear(struct session_result *r);

/**
 * session_state() - {"devices": [...], "objects": [...]}: every device the
 * session has touched and their group siblings, with their state (kernel,
 * unbound, vfio, opened, blocked, attached) and holders; every IOAS/HWPT
 * with its name, mappings and attached devices.  Caller owns the object.
 */
json_object *session_state(struct session *s);

/**
 * session_exec() - run @argv with the session's iommufd and device fds
 * inherited: IOMMUFD_FD, VFIO_DEVICE_FDS (open order), IOMMUFD_IOAS_ID in
 * the environment, and {iommufd}, {device:N}, {ioas} replaced in the
 * arguments.
 * @replace: execvp() in this process (returns only on failure); otherwise
 * fork, wait and report the child's status.
 * @child_status: the child's exit status (128+signal), or -1 when it did not run.
 * Return: an exit status of ours (0 when the child ran; its own status is
 * in *child_status), with @r filled on failure.
 */
int session_exec(struct session *s, char **argv, bool replace, int *child_status, struct session_result *r);

/* ---- the command language, for help and completion ---- */

struct session_command {
	const char *name;    /* "open", "ioas map", ... */
	const char *args;    /* synopsis of the positional arguments */
	const char *summary;
	const struct cmd_option *options; /* terminated by {NULL} */
};
/** session_commands() - the table, terminated by an entry with a NULL name. */
const struct session_command *session_commands(void);

/* ---- parsers, exposed for the unit tests ---- */

/** parse_number() - decimal or 0x hex; with @suffix, K/M/G/T (and KiB, KB) multiply. Return: 0, -EINVAL, -ERANGE. */
int parse_number(const char *text, bool suffix, uint64_t *out);
/** parse_size() - "4096", "0x1000", "4K", "2M", "1G", "1T" (also "4KiB", "4KB"). Return: 0, -EINVAL, -ERANGE. */
int parse_size(const char *text, uint64_t *out);
/** parse_address() - an IOVA: hex ("0x100000") or decimal, suffixes as parse_size(). Return: 0, -EINVAL, -ERANGE. */
int parse_address(const char *text, uint64_t *out);
/** parse_iova_range() - "START-LAST" (inclusive) or "START+SIZE". Return: 0, -EINVAL, -ERANGE. */
int parse_iova_range(const char *text, uint64_t *start, uint64_t *last);
/** valid_object_name() - a letter or '_', then letters, digits, '_', '-', '.'; at most 31 characters. */
bool valid_object_name(const char *name);

#endif
