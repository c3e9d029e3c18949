/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef IOMMUCTL_DIAGNOSE_H
#define IOMMUCTL_DIAGNOSE_H

/*
 * Diagnosis: turn a failed libiommufd call into the operator's terms by
 * looking at the system (sysfs, /proc, the IOMMU's capabilities, rlimits),
 * never by guessing from the errno alone.  Used by the session commands
 * (open, attach, map, ...), run, exec and probe.
 *
 * Usage:
 *	struct diag_input in = { .step = DIAG_DEVICE_OPEN, .err = err, .device = "0000:00:03.0" };
 *	char why[512];
 *	int status;
 *	fail(status, "%s: open: %s", in.device, diagnose(&in, why, sizeof(why), &status)) -- or print it yourself.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The step that failed. */
enum diag_step {
	DIAG_IOMMUFD_OPEN, /* opening /dev/iommu (iommufd_ctx_open) */
	DIAG_DEVICE_OPEN,  /* finding, opening and binding a device's cdev (iommufd_device_open) */
	DIAG_ATTACH,       /* iommufd_device_attach / _replace */
	DIAG_DETACH,
	DIAG_IOAS_ALLOC,
	DIAG_MAP,          /* iommufd_ioas_map / _map_file; also memory allocation for it */
	DIAG_UNMAP,
	DIAG_COPY,
	DIAG_ALLOW,        /* iommufd_ioas_allow_iovas */
	DIAG_RANGES,
	DIAG_HWPT_ALLOC,
	DIAG_DESTROY,
	DIAG_OPTION,
	DIAG_HW_INFO,
};

/* A device this process has open, and what it is attached to. */
struct diag_peer {
	const char *address; /* full PCI address */
	uint32_t pt_id;      /* the IOAS or HWPT id it was attached to; 0 while blocked */
	const char *pt_name; /* the session's name for that object, or NULL */
};

/* What the caller knows about the failure; unused fields stay 0/NULL. */
struct diag_input {
	enum diag_step step;
	int err;               /* the negative errno the library returned */
	const char *sysroot;   /* where sys/, proc/ and dev/ are; NULL for "/" */
	const char *device;    /* the device the step acted on (full PCI address), or NULL */
	uint32_t pt_id;        /* attach: the target; map/unmap/allow/copy/ranges/destroy: the IOAS or object */
	uint64_t iova;         /* map/allow/copy/unmap: first IOVA asked for */
	uint64_t length;       /* ... and the length (0: no range given) */
	bool fixed_iova;       /* map/copy: the IOVA was given */
	uint64_t requested;    /* ENOMEM: bytes this step would pin */
	uint64_t pinned;       /* ENOMEM: bytes this process already pins (its attached mappings) */
	const struct diag_peer *peers; /* the devices this process has open (for siblings, reserved regions) */
	size_t npeers;
};

/**
 * diagnose() - explain a failure.
 * @buf: receives the cause, "<why>" in "iommuctl: <object>: <what>: <why>"
 * (no prefix, no newline); it names what was found (the sibling and its
 * driver, the holding pid and command, the reserved region, the rlimit
 * numbers, the missing module or kernel option) and what to do.
 * @status: receives the exit status (contracts.md) for this cause; may be NULL.
 *
 * Return: @buf.
 */
const char *diagnose(const struct diag_input *in, char *buf, size_t size, int *status);

/** diag_errno_status() - the exit status of a bare -errno, when nothing better is known. */
int diag_errno_status(int err);

#endif
