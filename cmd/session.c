/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session interpreter: one iommufd, its devices and objects, driven by
 * the command language of iommuctl-session(7).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diagnose.h"
#include "iommufd/iommufd.h"
#include "session.h"

enum map_kind { MEM_ANON, MEM_HUGE, MEM_FILE_MMAP, MEM_FILE_FD, MEM_COPY };
static const char *const map_kind_name[] = { "anonymous", "hugepages", "file", "file", "copy" };

struct mapping {
	uint64_t iova, length;
	void *mem;     /* what we allocated or mmap'ed; NULL for copies and MAP_FILE */
	size_t memlen;
	unsigned int memflags;
	enum map_kind kind;
	bool readonly;
	char *file;
};

enum obj_type { OBJ_IOAS, OBJ_HWPT };

struct object {
	uint32_t id;
	enum obj_type type;
	char name[32];
	uint32_t ioas;      /* HWPT: the IOAS it translates through */
	char device[IOMMUFD_PCI_ADDRESS_SIZE];    /* HWPT: the device it was made for */
	bool dirty;
	struct mapping *maps;
	size_t nmaps;
};

struct sdev {
	struct iommufd_device *dev;
	char address[IOMMUFD_PCI_ADDRESS_SIZE];
	uint32_t pt;   /* what it was attached to (IOAS or HWPT id), 0 while blocked */
	uint32_t hwpt; /* the HWPT the kernel reported */
};

struct session {
	struct global_opts g;
	char sysroot[512];
	struct iommufd_ctx *ctx;
	struct sdev *devs;
	size_t ndevs;
	struct object *objs;
	size_t nobjs;
	char (*touched)[IOMMUFD_PCI_ADDRESS_SIZE];
	size_t ntouched;
	bool child_to_stderr; /* JSON Lines on stdout: the child's stdout goes to stderr */
};

/* One command being run. */
struct call {
	struct session *s;
	const struct scmd *cmd;
	int npos;
	char **pos;
	const char *optval[16]; /* by option index; "" for a flag that is set */
	struct session_result *r;
	json_object *out;
	bool quiet;
};

struct scmd {
	const char *name;
	const char *args;
	const char *summary;
	const struct cmd_option *options;
	int min, max; /* positional arguments; max -1: any */
	int (*run)(struct call *c);
	bool print; /* render the result in text mode */
};

/* ---- results and errors ---- */

__attribute__((format(printf, 4, 5))) static int call_fail(struct call *c, int status, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->r->message, sizeof(c->r->message), fmt, ap);
	va_end(ap);
	c->r->status = status;
	c->r->err = err < 0 ? -err : err;
	return status;
}

static void fill_peers(struct session *s, struct diag_peer *peers);

static int call_diag(struct call *c, struct diag_input *in, const char *object, const char *what)
{
	struct diag_peer peers[64];
	char why[1536];
	int status;

	if (!in->peers) {
		fill_peers(c->s, peers);
		in->peers = peers;
		in->npeers = c->s->ndevs < 64 ? c->s->ndevs : 64;
	}
	in->sysroot = c->s->g.sysroot;
	diagnose(in, why, sizeof(why), &status);
	in->peers = NULL;
	return call_fail(c, status, in->err, "%s: %s: %s", object, what, why);
}

static json_object *hex64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static const char *opt(const struct call *c, const char *name)
{
	for (int i = 0; c->cmd->options[i].name; i++)
		if (strcmp(c->cmd->options[i].name, name) == 0)
			return c->optval[i];
	return NULL;
}

/* ---- the session's tables ---- */

struct session *session_new(const struct global_opts *g)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->g = *g;
	if (g->sysroot) {
		snprintf(s->sysroot, sizeof(s->sysroot), "%s", g->sysroot);
		s->g.sysroot = s->sysroot;
	}
	return s;
}

static void free_mapping(struct mapping *m)
{
	if (m->mem && (m->kind == MEM_ANON || m->kind == MEM_HUGE))
		iommufd_mem_free(m->mem, m->memlen, m->memflags);
	else if (m->mem)
		munmap(m->mem, m->memlen);
	free(m->file);
	m->mem = NULL;
	m->file = NULL;
}

static void free_object(struct object *o)
{
	for (size_t i = 0; i < o->nmaps; i++)
		free_mapping(&o->maps[i]);
	free(o->maps);
	o->maps = NULL;
	o->nmaps = 0;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndevs; i++)
		iommufd_device_close(s->devs[i].dev);
	iommufd_ctx_free(s->ctx);
	for (size_t i = 0; i < s->nobjs; i++)
		free_object(&s->objs[i]);
	free(s->objs);
	free(s->devs);
	free(s->touched);
	free(s);
}

static void fill_peers(struct session *s, struct diag_peer *peers)
{
	for (size_t i = 0; i < s->ndevs && i < 64; i++) {
		peers[i].address = s->devs[i].address;
		peers[i].pt_id = s->devs[i].pt;
		peers[i].pt_name = NULL;
		for (size_t j = 0; j < s->nobjs; j++)
			if (s->objs[j].id == s->devs[i].pt && s->objs[j].name[0])
				peers[i].pt_name = s->objs[j].name;
	}
}

static void touch(struct session *s, const char *address)
{
	char(*grown)[IOMMUFD_PCI_ADDRESS_SIZE];

	for (size_t i = 0; i < s->ntouched; i++)
		if (strcmp(s->touched[i], address) == 0)
			return;
	grown = realloc(s->touched, (s->ntouched + 1) * sizeof(*s->touched));
	if (!grown)
		return;
	s->touched = grown;
	snprintf(s->touched[s->ntouched++], IOMMUFD_PCI_ADDRESS_SIZE, "%s", address);
}

static struct sdev *find_sdev(struct session *s, const char *address)
{
	for (size_t i = 0; i < s->ndevs; i++)
		if (strcmp(s->devs[i].address, address) == 0)
			return &s->devs[i];
	return NULL;
}

static struct object *find_object_id(struct session *s, uint32_t id)
{
	for (size_t i = 0; i < s->nobjs; i++)
		if (s->objs[i].id == id)
			return &s->objs[i];
	return NULL;
}

static const char *obj_label(struct session *s, uint32_t id, char *buf, size_t size)
{
	const struct object *o = find_object_id(s, id);

	if (o && o->name[0])
		snprintf(buf, size, "%s %u (%s)", o->type == OBJ_IOAS ? "IOAS" : "HWPT", id, o->name);
	else
		snprintf(buf, size, "%s %u", o && o->type == OBJ_HWPT ? "HWPT" : o ? "IOAS" : "object", id);
	return buf;
}

/* The IOAS a device's attachment translates through (0 when blocked). */
static uint32_t dev_ioas(struct session *s, const struct sdev *d)
{
	const struct object *o = find_object_id(s, d->pt);

	if (!d->pt)
		return 0;
	return o && o->type == OBJ_HWPT ? o->ioas : d->pt;
}

/* Bytes mapped in IOASes some device is attached to: what the kernel has pinned for us. */
static uint64_t pinned_bytes(struct session *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->nobjs; i++) {
		const struct object *o = &s->objs[i];
		bool used = false;

		if (o->type != OBJ_IOAS)
			continue;
		for (size_t d = 0; d < s->ndevs; d++)
			used |= dev_ioas(s, &s->devs[d]) == o->id;
		for (size_t m = 0; used && m < o->nmaps; m++)
			total += o->maps[m].length;
	}
	return total;
}

static bool ioas_in_use(struct session *s, uint32_t ioas)
{
	for (size_t d = 0; d < s->ndevs; d++)
		if (dev_ioas(s, &s->devs[d]) == ioas)
			return true;
	return false;
}

static int need_ctx(struct call *c)
{
	char path[600];
	int err;

	if (c->s->ctx)
		return 0;
	if (c->s->g.sysroot && strcmp(c->s->g.sysroot, "/") != 0)
		snprintf(path, sizeof(path), "%s/dev/iommu", c->s->g.sysroot);
	else
		snprintf(path, sizeof(path), "/dev/iommu");
	err = iommufd_ctx_open(path, &c->s->ctx);
	if (err) {
		struct diag_input in = { .step = DIAG_IOMMUFD_OPEN, .err = err };

		return call_diag(c, &in, path, "open");
	}
	return 0;
}

/* A device named on the line: a PCI address (or an interface name, looked up in sysfs). */
static int resolve_device(struct call *c, const char *name, char full[IOMMUFD_PCI_ADDRESS_SIZE])
{
	struct iommufd_topo *topo;
	const struct iommufd_pci_dev *dev;

	if (iommufd_pci_address_parse(name, full, IOMMUFD_PCI_ADDRESS_SIZE) == 0)
		return 0;
	if (strchr(name, ':') || !*name || strlen(name) > 15)
		return call_fail(c, EXIT_USAGE, EINVAL, "%s: malformed PCI address (expected DDDD:BB:DD.F or BB:DD.F)",
				 name);
	if (iommufd_topo_load(c->s->g.sysroot, 0, &topo) != 0)
		return call_fail(c, EXIT_NOT_FOUND, ENOENT, "%s: no such PCI device or network interface", name);
	dev = iommufd_topo_find_netdev(topo, name);
	if (dev)
		snprintf(full, IOMMUFD_PCI_ADDRESS_SIZE, "%s", iommufd_dev_address(dev));
	iommufd_topo_free(topo);
	return dev ? 0 : call_fail(c, EXIT_NOT_FOUND, ENOENT, "%s: no such PCI device or network interface", name);
}

static int session_device(struct call *c, const char *name, struct sdev **out)
{
	char full[IOMMUFD_PCI_ADDRESS_SIZE];
	int status = resolve_device(c, name, full);

	if (status)
		return status;
	*out = find_sdev(c->s, full);
	if (!*out)
		return call_fail(c, EXIT_NOT_FOUND, ENOENT, "%s: not open in this session (use 'open %s' first)", full, name);
	return 0;
}

/* A device the line acts on through the iommufd: it must be bound to it. */
static int bound_device(struct call *c, const char *name, struct sdev **out)
{
	int status = session_device(c, name, out);

	if (status || !*out)
		return status ? status : EXIT_NOT_FOUND;
	if (!iommufd_device_bound((*out)->dev))
		return call_fail(c, EXIT_USAGE, EINVAL,
				 "%s: opened with --unbound: not bound to this session's iommufd (the program it is handed to binds it)",
				 (*out)->address);
	return 0;
}

/* An object named on the line: a session name, or a kernel id (decimal or hex). */
static int resolve_object(struct call *c, const char *text, uint32_t *id, struct object **obj)
{
	uint64_t v;

	*obj = NULL;
	for (size_t i = 0; i < c->s->nobjs; i++)
		if (c->s->objs[i].name[0] && strcmp(c->s->objs[i].name, text) == 0) {
			*obj = &c->s->objs[i];
			*id = (*obj)->id;
			return 0;
		}
	if (parse_number(text, false, &v) == 0) {
		if (v == 0 || v > UINT32_MAX)
			return call_fail(c, EXIT_USAGE, EINVAL, "%s: not an object id (1 to 4294967295)", text);
		*id = (uint32_t)v;
		*obj = find_object_id(c->s, *id);
		return 0;
	}
	if (!valid_object_name(text))
		return call_fail(c, EXIT_USAGE, EINVAL, "%s: not an object name or id", text);
	return call_fail(c, EXIT_NOT_FOUND, ENOENT, "%s: no object of that name in this session", text);
}

static int resolve_ioas(struct call *c, const char *text, uint32_t *id, struct object **obj)
{
	int status = resolve_object(c, text, id, obj);

	if (status)
		return status;
	if (*obj && (*obj)->type != OBJ_IOAS)
		return call_fail(c, EXIT_USAGE, EINVAL, "%s: HWPT %u is not an IOAS", text, *id);
	return 0;
}

static int check_new_name(struct call *c, const char *name)
{
	if (!valid_object_name(name))
		return call_fail(c, EXIT_USAGE, EINVAL,
				 "%s: not a valid name (a letter or '_', then letters, digits, '_', '-', '.'; "
				 "at most 31 characters)",
				 name);
	for (size_t i = 0; i < c->s->nobjs; i++)
		if (strcmp(c->s->objs[i].name, name) == 0)
			return call_fail(c, EXIT_UNSAFE, EEXIST, "%s: name already used by object %u", name,
					 c->s->objs[i].id);
	return 0;
}

static struct object *add_object(struct session *s, uint32_t id, enum obj_type type, const char *name)
{
	struct object *grown = realloc(s->objs, (s->nobjs + 1) * sizeof(*s->objs));

	if (!grown)
		return NULL;
	s->objs = grown;
	grown = &s->objs[s->nobjs++];
	memset(grown, 0, sizeof(*grown));
	grown->id = id;
	grown->type = type;
	if (name)
		snprintf(grown->name, sizeof(grown->name), "%s", name);
	return grown;
}

static struct mapping *add_mapping(struct object *o)
{
	struct mapping *grown = realloc(o->maps, (o->nmaps + 1) * sizeof(*o->maps));

	if (!grown)
		return NULL;
	o->maps = grown;
	grown = &o->maps[o->nmaps++];
	memset(grown, 0, sizeof(*grown));
	return grown;
}

/* ---- state ---- */

static const char *device_state(const struct iommufd_pci_dev *dev)
{
	const char *driver = iommufd_dev_driver(dev);

	if (!driver)
		return "unbound";
	return iommufd_dev_driver_is_vfio(dev) ? "vfio" : "kernel";
}

static json_object *json_mapping(const struct mapping *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "iova", hex64(m->iova));
	json_object_object_add(o, "length", json_object_new_int64((int64_t)m->length));
	json_object_object_add(o, "readonly", json_object_new_boolean(m->readonly));
	json_object_object_add(o, "memory", json_object_new_string(map_kind_name[m->kind]));
	json_object_object_add(o, "file", jstr(m->file));
	return o;
}

static json_object *json_object_of(struct session *s, const struct object *o)
{
	json_object *j = json_object_new_object(), *maps = json_object_new_array(), *devs = json_object_new_array();

	json_object_object_add(j, "id", json_object_new_int64(o->id));
	json_object_object_add(j, "type", json_object_new_string(o->type == OBJ_IOAS ? "ioas" : "hwpt"));
	json_object_object_add(j, "name", o->name[0] ? json_object_new_string(o->name) : NULL);
	json_object_object_add(j, "ioas", o->type == OBJ_HWPT ? json_object_new_int64(o->ioas) : NULL);
	json_object_object_add(j, "device", o->type == OBJ_HWPT ? json_object_new_string(o->device) : NULL);
	json_object_object_add(j, "dirty_tracking", json_object_new_boolean(o->dirty));
	for (size_t i = 0; i < o->nmaps; i++)
		json_object_array_add(maps, json_mapping(&o->maps[i]));
	json_object_object_add(j, "mappings", maps);
	for (size_t i = 0; i < s->ndevs; i++)
		if (s->devs[i].pt == o->id || (o->type == OBJ_IOAS && dev_ioas(s, &s->devs[i]) == o->id))
			json_object_array_add(devs, json_object_new_string(s->devs[i].address));
	json_object_object_add(j, "devices", devs);
	return j;
}

static json_object *json_holders_of(const struct iommufd_pci_dev *dev)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; dev && i < iommufd_dev_holder_count(dev); i++) {
		const struct iommufd_holder *h = iommufd_dev_holder(dev, i);
		json_object *o;

		if (h->pid == getpid())
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(h->pid));
		json_object_object_add(o, "command", h->command[0] ? json_object_new_string(h->command) : NULL);
		json_object_object_add(o, "path", json_object_new_string(h->path));
		json_object_object_add(o, "node", json_object_new_string(h->node));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *json_session_device(struct session *s, const char *address, const struct iommufd_pci_dev *pdev)
{
	json_object *o = json_object_new_object();
	struct sdev *d = find_sdev(s, address);
	const struct iommufd_group *group = pdev ? iommufd_dev_group(pdev) : NULL;
	const struct object *target = d ? find_object_id(s, d->pt) : NULL;
	const char *state = d ? (d->pt ? "attached" : iommufd_device_bound(d->dev) ? "blocked" : "opened")
			      : pdev ? device_state(pdev) : "unknown";

	json_object_object_add(o, "address", json_object_new_string(address));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "driver", pdev ? jstr(iommufd_dev_driver(pdev)) : NULL);
	json_object_object_add(o, "iommu_group", group ? json_object_new_int((int)iommufd_group_id(group)) : NULL);
	json_object_object_add(o, "in_session", json_object_new_boolean(d != NULL));
	json_object_object_add(o, "dev_id", d && iommufd_device_bound(d->dev) ? json_object_new_int64(iommufd_device_id(d->dev)) : NULL);
	json_object_object_add(o, "cdev", d ? json_object_new_string(iommufd_device_cdev(d->dev))
					    : pdev ? jstr(iommufd_dev_vfio_cdev(pdev)) : NULL);
	json_object_object_add(o, "fd", d ? json_object_new_int(iommufd_device_fd(d->dev)) : NULL);
	json_object_object_add(o, "attached_to", d && d->pt ? json_object_new_int64(d->pt) : NULL);
	json_object_object_add(o, "attached_to_name", target && target->name[0] ? json_object_new_string(target->name) : NULL);
	json_object_object_add(o, "ioas", d && d->pt ? json_object_new_int64(dev_ioas(s, d)) : NULL);
	json_object_object_add(o, "hwpt", d && d->pt ? json_object_new_int64(d->hwpt) : NULL);
	json_object_object_add(o, "holders", json_holders_of(pdev));
	return o;
}

json_object *session_state(struct session *s)
{
	json_object *out = json_object_new_object(), *devs = json_object_new_array(), *objs = json_object_new_array();
	struct iommufd_topo *topo = NULL;
	char(*seen)[IOMMUFD_PCI_ADDRESS_SIZE] = NULL;
	size_t nseen = 0;

	if (s->ntouched)
		iommufd_topo_load(s->g.sysroot, IOMMUFD_TOPO_HOLDERS, &topo);
	seen = calloc(s->ntouched * 8 + 64, IOMMUFD_PCI_ADDRESS_SIZE);
	for (size_t i = 0; seen && i < s->ntouched; i++) {
		const struct iommufd_pci_dev *pdev = topo ? iommufd_topo_find_dev(topo, s->touched[i]) : NULL;
		const struct iommufd_group *group = pdev ? iommufd_dev_group(pdev) : NULL;
		size_t n = group ? iommufd_group_dev_count(group) : 0;

		/* The device, then its group siblings, each once. */
		for (size_t j = 0; j <= n; j++) {
			const struct iommufd_pci_dev *m = j == 0 ? pdev : iommufd_group_dev(group, j - 1);
			const char *addr = j == 0 ? s->touched[i] : iommufd_dev_address(m);
			bool dup = false;

			for (size_t k = 0; k < nseen; k++)
				dup |= strcmp(seen[k], addr) == 0;
			if (dup || nseen >= s->ntouched * 8 + 64)
				continue;
			snprintf(seen[nseen++], IOMMUFD_PCI_ADDRESS_SIZE, "%s", addr);
			json_object_array_add(devs, json_session_device(s, addr, m));
		}
	}
	free(seen);
	iommufd_topo_free(topo);
	for (size_t i = 0; i < s->nobjs; i++)
		json_object_array_add(objs, json_object_of(s, &s->objs[i]));
	json_object_object_add(out, "devices", devs);
	json_object_object_add(out, "objects", objs);
	return out;
}

/* ---- commands ---- */

static int c_open(struct call *c)
{
	struct session *s = c->s;
	struct iommufd_device *dev;
	struct sdev *grown;
	char full[IOMMUFD_PCI_ADDRESS_SIZE];
	bool unbound = opt(c, "unbound") != NULL;
	int err, status = resolve_device(c, c->pos[0], full);

	if (status)
		return status;
	touch(s, full);
	if (find_sdev(s, full))
		return call_fail(c, EXIT_UNSAFE, EBUSY, "%s: already open in this session", full);
	if ((status = need_ctx(c)))
		return status;
	if (opt(c, "vf-token")) {
		unsigned char token[16];
		const char *t = opt(c, "vf-token");
		size_t n = 0;

		for (; *t && n < 32; t++) {
			if (*t == '-')
				continue;
			if (!isxdigit((unsigned char)*t))
				break;
			token[n / 2] = (unsigned char)((n % 2 ? token[n / 2] << 4 : 0) |
						       (unsigned char)(isdigit((unsigned char)*t) ? *t - '0' : (tolower((unsigned char)*t) - 'a' + 10)));
			n++;
		}
		if (n != 32 || *t)
			return call_fail(c, EXIT_USAGE, EINVAL, "%s: not a UUID", opt(c, "vf-token"));
		if (unbound)
			return call_fail(c, EXIT_USAGE, EINVAL, "open: --vf-token is given with the BIND, which --unbound leaves to the program");
		err = iommufd_device_open_vf(s->ctx, full, s->g.sysroot, token, &dev);
	} else if (unbound) {
		err = iommufd_device_open_unbound(s->ctx, full, s->g.sysroot, &dev);
	} else {
		err = iommufd_device_open(s->ctx, full, s->g.sysroot, &dev);
	}
	if (err) {
		struct diag_input in = { .step = DIAG_DEVICE_OPEN, .err = err, .device = full };

		return call_diag(c, &in, full, "open");
	}
	grown = realloc(s->devs, (s->ndevs + 1) * sizeof(*s->devs));
	if (!grown) {
		iommufd_device_close(dev);
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	}
	s->devs = grown;
	s->devs[s->ndevs++] = (struct sdev){ .dev = dev, .pt = 0, .hwpt = 0 };
	snprintf(s->devs[s->ndevs - 1].address, IOMMUFD_PCI_ADDRESS_SIZE, "%s", full);
	json_object_object_add(c->out, "address", json_object_new_string(full));
	json_object_object_add(c->out, "state", json_object_new_string(unbound ? "opened" : "blocked"));
	json_object_object_add(c->out, "dev_id", unbound ? NULL : json_object_new_int64(iommufd_device_id(dev)));
	json_object_object_add(c->out, "cdev", json_object_new_string(iommufd_device_cdev(dev)));
	json_object_object_add(c->out, "fd", json_object_new_int(iommufd_device_fd(dev)));
	return 0;
}

static int c_close(struct call *c)
{
	struct sdev *d;
	int status = session_device(c, c->pos[0], &d);
	char address[IOMMUFD_PCI_ADDRESS_SIZE];

	if (status)
		return status;
	snprintf(address, sizeof(address), "%s", d->address);
	iommufd_device_close(d->dev);
	/* Keep the open order: {device:N} and VFIO_DEVICE_FDS count in it. */
	memmove(d, d + 1, (size_t)(c->s->devs + c->s->ndevs - (d + 1)) * sizeof(*d));
	c->s->ndevs--;
	json_object_object_add(c->out, "address", json_object_new_string(address));
	json_object_object_add(c->out, "state", json_object_new_string("closed"));
	return 0;
}

static int c_attach(struct call *c)
{
	struct sdev *d;
	struct object *o;
	uint32_t id, hwpt = 0;
	int err, status = bound_device(c, c->pos[0], &d);

	if (status || (status = resolve_object(c, c->pos[1], &id, &o)))
		return status;
	err = d->pt ? iommufd_device_replace(d->dev, id, &hwpt) : iommufd_device_attach(d->dev, id, &hwpt);
	if (err) {
		struct object *target = find_object_id(c->s, id);
		uint32_t ioas = target && target->type == OBJ_HWPT ? target->ioas : id;
		struct object *io = find_object_id(c->s, ioas);
		struct diag_input in = { .step = DIAG_ATTACH, .err = err, .device = d->address, .pt_id = id,
					 .pinned = pinned_bytes(c->s) };
		char what[96], label[64];

		for (size_t m = 0; io && !ioas_in_use(c->s, ioas) && m < io->nmaps; m++)
			in.requested += io->maps[m].length;
		snprintf(what, sizeof(what), "%s %s", d->pt ? "replace with" : "attach to",
			 obj_label(c->s, id, label, sizeof(label)));
		return call_diag(c, &in, d->address, what);
	}
	d->pt = id;
	d->hwpt = hwpt;
	json_object_object_add(c->out, "address", json_object_new_string(d->address));
	json_object_object_add(c->out, "state", json_object_new_string("attached"));
	json_object_object_add(c->out, "attached_to", json_object_new_int64(id));
	json_object_object_add(c->out, "ioas", json_object_new_int64(dev_ioas(c->s, d)));
	json_object_object_add(c->out, "hwpt", json_object_new_int64(hwpt));
	return 0;
}

static int c_detach(struct call *c)
{
	struct sdev *d;
	int err, status = session_device(c, c->pos[0], &d);

	if (status)
		return status;
	if (!d->pt)
		return call_fail(c, EXIT_USAGE, EINVAL, "%s: detach: not attached (already blocked)", d->address);
	err = iommufd_device_detach(d->dev);
	if (err) {
		struct diag_input in = { .step = DIAG_DETACH, .err = err, .device = d->address };

		return call_diag(c, &in, d->address, "detach");
	}
	d->pt = 0;
	d->hwpt = 0;
	json_object_object_add(c->out, "address", json_object_new_string(d->address));
	json_object_object_add(c->out, "state", json_object_new_string("blocked"));
	return 0;
}

static int c_ioas_alloc(struct call *c)
{
	uint32_t id;
	int err, status;

	if (c->npos && (status = check_new_name(c, c->pos[0])))
		return status;
	if ((status = need_ctx(c)))
		return status;
	err = iommufd_ioas_alloc(c->s->ctx, &id);
	if (err) {
		struct diag_input in = { .step = DIAG_IOAS_ALLOC, .err = err };

		return call_diag(c, &in, "ioas", "alloc");
	}
	if (!add_object(c->s, id, OBJ_IOAS, c->npos ? c->pos[0] : NULL)) {
		iommufd_destroy(c->s->ctx, id);
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	}
	json_object_object_add(c->out, "id", json_object_new_int64(id));
	json_object_object_add(c->out, "type", json_object_new_string("ioas"));
	json_object_object_add(c->out, "name", c->npos ? json_object_new_string(c->pos[0]) : NULL);
	return 0;
}

/* The IOAS of a map/unmap/copy/ranges/allow line must be one of ours (we own its memory). */
static int our_ioas(struct call *c, const char *text, struct object **o)
{
	uint32_t id = 0;
	int status = resolve_ioas(c, text, &id, o);

	if (status)
		return status;
	if (!*o)
		return call_fail(c, EXIT_NOT_FOUND, ENOENT, "%s: no IOAS %u in this session", text, id);
	return 0;
}

static int c_ioas_map(struct call *c)
{
	struct object *o;
	struct mapping m = { 0 };
	uint64_t iova = 0;
	const char *file = opt(c, "file");
	bool fixed = opt(c, "iova") != NULL, huge = opt(c, "hugepages") != NULL;
	unsigned int flags;
	int err, status;

	if (!opt(c, "length"))
		return call_fail(c, EXIT_USAGE, EINVAL, "ioas map: --length SIZE is required");
	if ((err = parse_size(opt(c, "length"), &m.length)))
		return call_fail(c, EXIT_USAGE, -err, "%s: not a size (4096, 0x1000, 4K, 2M, 1G)", opt(c, "length"));
	if (fixed && (err = parse_address(opt(c, "iova"), &iova)))
		return call_fail(c, EXIT_USAGE, -err, "%s: not an address (0x100000)", opt(c, "iova"));
	if (file && huge)
		return call_fail(c, EXIT_USAGE, EINVAL, "ioas map: --hugepages and --file exclude each other");
	if ((status = our_ioas(c, c->pos[0], &o)))
		return status;
	m.readonly = opt(c, "readonly") != NULL;
	flags = IOMMUFD_MAP_READ | (m.readonly ? 0 : IOMMUFD_MAP_WRITE) | (fixed ? IOMMUFD_MAP_FIXED_IOVA : 0);
	m.iova = iova;
	if (file) {
		int fd = open(file, (m.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		struct stat st;

		if (fd < 0)
			return call_fail(c, errno == ENOENT ? EXIT_NOT_FOUND : errno == EACCES ? EXIT_PERMISSION : EXIT_FAILURE_IO,
					 errno, "%s: open: %s", file, strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < m.length) {
			close(fd);
			return call_fail(c, EXIT_USAGE, EINVAL, "%s: file is smaller (%lld bytes) than --length", file,
					 (long long)st.st_size);
		}
		m.file = strdup(file);
		if (iommufd_ctx_supports(c->s->ctx, IOMMUFD_FEATURE_MAP_FILE) == 1) {
			m.kind = MEM_FILE_FD;
			err = iommufd_ioas_map_file(c->s->ctx, o->id, fd, 0, m.length, flags, &m.iova);
		} else {
			m.kind = MEM_FILE_MMAP;
			m.memlen = m.length;
			m.mem = mmap(NULL, m.length, PROT_READ | (m.readonly ? 0 : PROT_WRITE), MAP_SHARED, fd, 0);
			if (m.mem == MAP_FAILED) {
				err = errno;
				m.mem = NULL;
				close(fd);
				free(m.file);
				return call_fail(c, EXIT_FAILURE_IO, err, "%s: mmap: %s", file, strerror(err));
			}
			err = iommufd_ioas_map(c->s->ctx, o->id, m.mem, m.length, flags, &m.iova);
		}
		close(fd);
	} else {
		m.kind = huge ? MEM_HUGE : MEM_ANON;
		m.memflags = huge ? IOMMUFD_MEM_HUGE_2M : 0;
		m.memlen = (size_t)m.length;
		err = iommufd_mem_alloc(m.memlen, m.memflags, &m.mem);
		if (err) {
			m.mem = NULL;
			return call_fail(c, EXIT_FAILURE_IO, err,
					 "ioas map: cannot allocate %" PRIu64 " bytes%s: %s", m.length,
					 huge ? " of 2 MiB huge pages" : "",
					 huge && err == -ENOMEM ? "no free huge pages reserved (see /proc/sys/vm/nr_hugepages)"
								: strerror(-err));
		}
		err = iommufd_ioas_map(c->s->ctx, o->id, m.mem, m.length, flags, &m.iova);
	}
	if (err) {
		struct diag_input in = { .step = DIAG_MAP, .err = err, .pt_id = o->id, .iova = iova,
					 .length = m.length, .fixed_iova = fixed,
					 .requested = ioas_in_use(c->s, o->id) ? m.length : 0,
					 .pinned = pinned_bytes(c->s) };
		char what[96], label[64];

		free_mapping(&m);
		snprintf(what, sizeof(what), "map into %s", obj_label(c->s, o->id, label, sizeof(label)));
		return call_diag(c, &in, "ioas", what);
	}
	struct mapping *slot = add_mapping(o);

	if (!slot) {
		iommufd_ioas_unmap(c->s->ctx, o->id, m.iova, m.length, NULL);
		free_mapping(&m);
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	}
	*slot = m;
	json_object_object_add(c->out, "ioas", json_object_new_int64(o->id));
	json_object_object_add(c->out, "iova", hex64(m.iova));
	json_object_object_add(c->out, "length", json_object_new_int64((int64_t)m.length));
	json_object_object_add(c->out, "readonly", json_object_new_boolean(m.readonly));
	json_object_object_add(c->out, "memory", json_object_new_string(map_kind_name[m.kind]));
	json_object_object_add(c->out, "file", jstr(m.file));
	return 0;
}

static void drop_mappings(struct object *o, uint64_t start, uint64_t last)
{
	size_t kept = 0;

	for (size_t i = 0; i < o->nmaps; i++) {
		struct mapping *m = &o->maps[i];

		if (m->iova >= start && m->iova + m->length - 1 <= last)
			free_mapping(m);
		else
			o->maps[kept++] = *m;
	}
	o->nmaps = kept;
}

static int c_ioas_unmap(struct call *c)
{
	struct object *o;
	uint64_t iova = 0, length = 0, unmapped = 0;
	bool all = opt(c, "all") != NULL;
	int err, status;

	if (all ? c->npos != 1 : c->npos != 3)
		return call_fail(c, EXIT_USAGE, EINVAL, "ioas unmap: give either IOVA LENGTH or --all");
	if (!all) {
		if ((err = parse_address(c->pos[1], &iova)))
			return call_fail(c, EXIT_USAGE, -err, "%s: not an address (0x100000)", c->pos[1]);
		if ((err = parse_size(c->pos[2], &length)))
			return call_fail(c, EXIT_USAGE, -err, "%s: not a size (4096, 0x1000, 4K, 2M, 1G)", c->pos[2]);
	}
	if ((status = our_ioas(c, c->pos[0], &o)))
		return status;
	if (!all) {
		err = iommufd_ioas_unmap(c->s->ctx, o->id, iova, length, &unmapped);
	} else {
		err = iommufd_ioas_unmap_all(c->s->ctx, o->id, &unmapped);
	}
	if (err) {
		struct diag_input in = { .step = DIAG_UNMAP, .err = err, .pt_id = o->id, .iova = iova, .length = length };

		return call_diag(c, &in, "ioas", "unmap");
	}
	if (all)
		drop_mappings(o, 0, UINT64_MAX);
	else
		drop_mappings(o, iova, iova + length - 1);
	json_object_object_add(c->out, "ioas", json_object_new_int64(o->id));
	json_object_object_add(c->out, "unmapped", json_object_new_int64((int64_t)unmapped));
	return 0;
}

static int c_ioas_copy(struct call *c)
{
	struct object *dst, *src;
	uint64_t src_iova, length, iova = 0;
	bool fixed = opt(c, "iova") != NULL, ro = opt(c, "readonly") != NULL;
	int err, status;

	if ((err = parse_address(c->pos[2], &src_iova)))
		return call_fail(c, EXIT_USAGE, -err, "%s: not an address (0x100000)", c->pos[2]);
	if ((err = parse_size(c->pos[3], &length)))
		return call_fail(c, EXIT_USAGE, -err, "%s: not a size (4096, 0x1000, 4K, 2M, 1G)", c->pos[3]);
	if (fixed && (err = parse_address(opt(c, "iova"), &iova)))
		return call_fail(c, EXIT_USAGE, -err, "%s: not an address (0x100000)", opt(c, "iova"));
	if ((status = our_ioas(c, c->pos[0], &dst)) || (status = our_ioas(c, c->pos[1], &src)))
		return status;
	err = iommufd_ioas_copy(c->s->ctx, dst->id, src->id, src_iova, length,
				IOMMUFD_MAP_READ | (ro ? 0 : IOMMUFD_MAP_WRITE) | (fixed ? IOMMUFD_MAP_FIXED_IOVA : 0),
				&iova);
	if (err) {
		struct diag_input in = { .step = DIAG_COPY, .err = err, .pt_id = src->id, .iova = src_iova,
					 .length = length, .fixed_iova = fixed };

		return call_diag(c, &in, "ioas", "copy");
	}
	struct mapping *m = add_mapping(dst);

	if (m) {
		m->iova = iova;
		m->length = length;
		m->kind = MEM_COPY;
		m->readonly = ro;
	}
	json_object_object_add(c->out, "ioas", json_object_new_int64(dst->id));
	json_object_object_add(c->out, "iova", hex64(iova));
	json_object_object_add(c->out, "length", json_object_new_int64((int64_t)length));
	json_object_object_add(c->out, "source_ioas", json_object_new_int64(src->id));
	json_object_object_add(c->out, "source_iova", hex64(src_iova));
	return 0;
}

static int c_ioas_ranges(struct call *c)
{
	struct object *o;
	struct iommufd_iova_range *ranges = NULL;
	size_t count = 0;
	uint64_t align = 0;
	json_object *arr;
	int err, status = our_ioas(c, c->pos[0], &o);

	if (status)
		return status;
	err = iommufd_ioas_iova_ranges(c->s->ctx, o->id, NULL, &count, &align);
	if (err == -EMSGSIZE || (err == 0 && count)) {
		ranges = calloc(count, sizeof(*ranges));
		if (!ranges)
			return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
		err = iommufd_ioas_iova_ranges(c->s->ctx, o->id, ranges, &count, &align);
	}
	if (err) {
		struct diag_input in = { .step = DIAG_RANGES, .err = err, .pt_id = o->id };

		free(ranges);
		return call_diag(c, &in, "ioas", "ranges");
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < count; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "start", hex64(ranges[i].start));
		json_object_object_add(r, "last", hex64(ranges[i].last));
		json_object_array_add(arr, r);
	}
	free(ranges);
	json_object_object_add(c->out, "ioas", json_object_new_int64(o->id));
	json_object_object_add(c->out, "alignment", json_object_new_int64((int64_t)align));
	json_object_object_add(c->out, "ranges", arr);
	return 0;
}

static int c_ioas_allow(struct call *c)
{
	struct object *o;
	struct iommufd_iova_range ranges[32];
	size_t n = 0;
	json_object *arr;
	int err, status;

	if (c->npos - 1 > 32)
		return call_fail(c, EXIT_USAGE, E2BIG, "ioas allow: at most 32 ranges");
	for (int i = 1; i < c->npos; i++, n++)
		if ((err = parse_iova_range(c->pos[i], &ranges[n].start, &ranges[n].last)))
			return call_fail(c, EXIT_USAGE, -err, "%s: not a range (START-LAST or START+SIZE)", c->pos[i]);
	if ((status = our_ioas(c, c->pos[0], &o)))
		return status;
	err = iommufd_ioas_allow_iovas(c->s->ctx, o->id, ranges, n);
	if (err) {
		struct diag_input in = { .step = DIAG_ALLOW, .err = err, .pt_id = o->id,
					 .iova = n ? ranges[0].start : 0,
					 .length = n ? ranges[0].last - ranges[0].start + 1 : 0 };

		/* Name the first range that meets a reserved region. */
		for (size_t i = 0; err == -EADDRINUSE && i < n; i++) {
			char why[1536];
			int st;

			in.iova = ranges[i].start;
			in.length = ranges[i].last - ranges[i].start + 1;
			struct diag_peer peers[64];

			fill_peers(c->s, peers);
			in.peers = peers;
			in.npeers = c->s->ndevs < 64 ? c->s->ndevs : 64;
			in.sysroot = c->s->g.sysroot;
			diagnose(&in, why, sizeof(why), &st);
			if (strstr(why, "overlaps"))
				return call_fail(c, st, -err, "ioas: allow: %s", why);
			in.peers = NULL;
		}
		return call_diag(c, &in, "ioas", "allow");
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "start", hex64(ranges[i].start));
		json_object_object_add(r, "last", hex64(ranges[i].last));
		json_object_array_add(arr, r);
	}
	json_object_object_add(c->out, "ioas", json_object_new_int64(o->id));
	json_object_object_add(c->out, "allowed", arr);
	return 0;
}

static int c_hwpt_alloc(struct call *c)
{
	struct sdev *d;
	struct object *io, *h;
	uint32_t ioas, id;
	bool dirty = opt(c, "dirty-tracking") != NULL;
	int err, status = bound_device(c, c->pos[0], &d);

	if (status || (status = resolve_ioas(c, c->pos[1], &ioas, &io)))
		return status;
	if (c->npos > 2 && (status = check_new_name(c, c->pos[2])))
		return status;
	err = iommufd_hwpt_alloc(c->s->ctx, iommufd_device_id(d->dev), ioas, dirty ? IOMMUFD_HWPT_DIRTY_TRACKING : 0,
				 &id);
	if (err) {
		struct diag_input in = { .step = DIAG_HWPT_ALLOC, .err = err, .device = d->address, .pt_id = ioas };

		return call_diag(c, &in, d->address, "hwpt alloc");
	}
	h = add_object(c->s, id, OBJ_HWPT, c->npos > 2 ? c->pos[2] : NULL);
	if (!h) {
		iommufd_destroy(c->s->ctx, id);
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	}
	h->ioas = ioas;
	h->dirty = dirty;
	snprintf(h->device, sizeof(h->device), "%s", d->address);
	json_object_object_add(c->out, "id", json_object_new_int64(id));
	json_object_object_add(c->out, "type", json_object_new_string("hwpt"));
	json_object_object_add(c->out, "name", c->npos > 2 ? json_object_new_string(c->pos[2]) : NULL);
	json_object_object_add(c->out, "ioas", json_object_new_int64(ioas));
	json_object_object_add(c->out, "dirty_tracking", json_object_new_boolean(dirty));
	return 0;
}

static int c_info(struct call *c)
{
	struct sdev *d;
	struct iommufd_hw_info *info;
	json_object *caps, *feats;
	int err, status = bound_device(c, c->pos[0], &d);

	if (status)
		return status;
	err = iommufd_device_hw_info(d->dev, &info);
	if (err) {
		struct diag_input in = { .step = DIAG_HW_INFO, .err = err, .device = d->address };

		return call_diag(c, &in, d->address, "info");
	}
	caps = json_object_new_object();
	for (size_t i = 0; i < iommufd_hw_info_feature_count(info); i++) {
		const char *name;
		uint64_t value;

		if (iommufd_hw_info_feature(info, i, &name, &value) == 0)
			json_object_object_add(caps, name, json_object_new_int64((int64_t)value));
	}
	feats = json_object_new_object();
	for (int f = IOMMUFD_FEATURE_IOAS; f <= IOMMUFD_FEATURE_MAP_FILE; f++)
		json_object_object_add(feats, iommufd_feature_name((enum iommufd_feature)f),
				       json_object_new_boolean(iommufd_ctx_supports(c->s->ctx, (enum iommufd_feature)f) == 1));
	json_object_object_add(c->out, "address", json_object_new_string(d->address));
	json_object_object_add(c->out, "dev_id", json_object_new_int64(iommufd_device_id(d->dev)));
	json_object_object_add(c->out, "iommu_type", json_object_new_string(iommufd_hw_info_type_name(info)));
	json_object_object_add(c->out, "capabilities", caps);
	json_object_object_add(c->out, "kernel_features", feats);
	iommufd_hw_info_free(info);
	return 0;
}

static int c_destroy(struct call *c)
{
	struct object *o;
	uint32_t id;
	char label[64];
	int err, status = resolve_object(c, c->pos[0], &id, &o);

	if (status || (status = need_ctx(c)))
		return status;
	obj_label(c->s, id, label, sizeof(label));
	err = iommufd_destroy(c->s->ctx, id);
	if (err) {
		struct diag_input in = { .step = DIAG_DESTROY, .err = err, .pt_id = id };

		return call_diag(c, &in, label, "destroy");
	}
	if (o) {
		free_object(o);
		memmove(o, o + 1, (size_t)(c->s->objs + c->s->nobjs - (o + 1)) * sizeof(*o));
		c->s->nobjs--;
	}
	json_object_object_add(c->out, "id", json_object_new_int64(id));
	json_object_object_add(c->out, "destroyed", json_object_new_boolean(true));
	return 0;
}

static int c_option(struct call *c)
{
	const char *name = c->npos ? c->pos[0] : NULL;
	int err = 0, status;
	struct diag_input in = { .step = DIAG_OPTION };

	if ((status = need_ctx(c)))
		return status;
	if (!name || strcmp(name, "rlimit-mode") == 0) {
		enum iommufd_rlimit_mode mode;

		if (name && c->npos > 2)
			return call_fail(c, EXIT_USAGE, EINVAL, "option rlimit-mode [user|process]");
		if (name && c->npos == 2) {
			if (strcmp(c->pos[1], "user") != 0 && strcmp(c->pos[1], "process") != 0)
				return call_fail(c, EXIT_USAGE, EINVAL, "%s: rlimit-mode is user or process", c->pos[1]);
			err = iommufd_ctx_set_rlimit_mode(c->s->ctx, strcmp(c->pos[1], "user") == 0 ? IOMMUFD_RLIMIT_USER
												 : IOMMUFD_RLIMIT_PROCESS);
		}
		if (!err)
			err = iommufd_ctx_get_rlimit_mode(c->s->ctx, &mode);
		if (err) {
			in.err = err;
			return call_diag(c, &in, "option rlimit-mode", c->npos == 2 ? "set" : "get");
		}
		json_object_object_add(c->out, "rlimit_mode",
				       json_object_new_string(mode == IOMMUFD_RLIMIT_USER ? "user" : "process"));
		if (name)
			return 0;
	}
	if (!name || strcmp(name, "huge-pages") == 0) {
		json_object *arr = json_object_new_array();

		json_object_object_add(c->out, "huge_pages", arr);
		if (name && (c->npos < 2 || c->npos > 3))
			return call_fail(c, EXIT_USAGE, EINVAL, "option huge-pages IOAS [on|off]");
		for (size_t i = 0; i < c->s->nobjs; i++) {
			struct object *o = &c->s->objs[i];
			json_object *e;
			bool on;

			if (o->type != OBJ_IOAS)
				continue;
			if (name) {
				struct object *want;

				if ((status = our_ioas(c, c->pos[1], &want)))
					return status;
				if (want != o)
					continue;
				if (c->npos == 3) {
					if (strcmp(c->pos[2], "on") != 0 && strcmp(c->pos[2], "off") != 0)
						return call_fail(c, EXIT_USAGE, EINVAL, "%s: huge-pages is on or off", c->pos[2]);
					err = iommufd_ioas_set_huge_pages(c->s->ctx, o->id, strcmp(c->pos[2], "on") == 0);
				}
			}
			if (!err)
				err = iommufd_ioas_get_huge_pages(c->s->ctx, o->id, &on);
			if (err) {
				in.err = err;
				return call_diag(c, &in, "option huge-pages", c->npos == 3 ? "set" : "get");
			}
			e = json_object_new_object();
			json_object_object_add(e, "ioas", json_object_new_int64(o->id));
			json_object_object_add(e, "enabled", json_object_new_boolean(on));
			json_object_array_add(arr, e);
		}
		return 0;
	}
	return call_fail(c, EXIT_USAGE, EINVAL, "%s: unknown option (rlimit-mode, huge-pages)", name);
}

static int c_state(struct call *c)
{
	json_object *st = session_state(c->s);

	json_object_put(c->out);
	c->out = st;
	return 0;
}

/* The session's IOAS for {ioas}: the first attached device's, else the first IOAS. */
static uint32_t default_ioas(struct session *s)
{
	for (size_t i = 0; i < s->ndevs; i++)
		if (s->devs[i].pt)
			return dev_ioas(s, &s->devs[i]);
	for (size_t i = 0; i < s->nobjs; i++)
		if (s->objs[i].type == OBJ_IOAS)
			return s->objs[i].id;
	return 0;
}

/* Replace {iommufd}, {device:N} and {ioas} in @in; NULL (and @r set) when a placeholder cannot be filled. */
static char *substitute(struct session *s, const char *in, struct session_result *r)
{
	size_t cap = strlen(in) + 64, used = 0;
	char *out = malloc(cap);
	const char *p = in;

	if (!out)
		return NULL;
	while (*p) {
		char num[24] = "";
		size_t skip = 0;

		if (strncmp(p, "{iommufd}", 9) == 0) {
			snprintf(num, sizeof(num), "%d", iommufd_ctx_fd(s->ctx));
			skip = 9;
		} else if (strncmp(p, "{ioas}", 6) == 0) {
			uint32_t ioas = default_ioas(s);

			if (!ioas) {
				snprintf(r->message, sizeof(r->message), "exec: {ioas}: the session has no IOAS");
				free(out);
				return NULL;
			}
			snprintf(num, sizeof(num), "%u", ioas);
			skip = 6;
		} else if (strncmp(p, "{device:", 8) == 0 && isdigit((unsigned char)p[8])) {
			char *end;
			unsigned long n = strtoul(p + 8, &end, 10);

			if (*end == '}') {
				if (n >= s->ndevs) {
					snprintf(r->message, sizeof(r->message),
						 "exec: {device:%lu}: the session has %zu open device%s (counting from 0)", n,
						 s->ndevs, s->ndevs == 1 ? "" : "s");
					free(out);
					return NULL;
				}
				snprintf(num, sizeof(num), "%d", iommufd_device_fd(s->devs[n].dev));
				skip = (size_t)(end + 1 - p);
			}
		}
		if (!skip) {
			num[0] = *p;
			num[1] = '\0';
			skip = 1;
		}
		if (used + strlen(num) + 1 > cap) {
			char *grown = realloc(out, cap * 2 + strlen(num));

			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
			cap = cap * 2 + strlen(num);
		}
		memcpy(out + used, num, strlen(num));
		used += strlen(num);
		p += skip;
	}
	out[used] = '\0';
	return out;
}

int session_exec(struct session *s, char **argv, bool replace, int *child_status, struct session_result *r)
{
	struct call c = { .s = s, .r = r };
	char **args;
	size_t n = 0;
	char fds[1024] = "";
	pid_t pid;
	int st, status;

	*child_status = -1;
	if ((status = need_ctx(&c)))
		return status;
	while (argv[n])
		n++;
	if (n == 0)
		return call_fail(&c, EXIT_USAGE, EINVAL, "exec: no command given");
	args = calloc(n + 1, sizeof(char *));
	if (!args)
		return call_fail(&c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		args[i] = substitute(s, argv[i], r);
		if (!args[i]) {
			session_argv_free(args);
			r->status = EXIT_USAGE;
			r->err = EINVAL;
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < s->ndevs; i++) {
		size_t len = strlen(fds);

		snprintf(fds + len, sizeof(fds) - len, "%s%d", i ? "," : "", iommufd_device_fd(s->devs[i].dev));
	}
	fflush(stdout);
	fflush(stderr);
	pid = replace ? 0 : fork();
	if (pid < 0) {
		session_argv_free(args);
		return call_fail(&c, EXIT_FAILURE_IO, errno, "exec: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char num[16];
		int err;

		if (s->child_to_stderr && !replace)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		/* Only the session's descriptors cross over. */
		fcntl(iommufd_ctx_fd(s->ctx), F_SETFD, 0);
		for (size_t i = 0; i < s->ndevs; i++)
			fcntl(iommufd_device_fd(s->devs[i].dev), F_SETFD, 0);
		snprintf(num, sizeof(num), "%d", iommufd_ctx_fd(s->ctx));
		setenv("IOMMUFD_FD", num, 1);
		setenv("VFIO_DEVICE_FDS", fds, 1);
		if (default_ioas(s)) {
			snprintf(num, sizeof(num), "%u", default_ioas(s));
			setenv("IOMMUFD_IOAS_ID", num, 1);
		} else {
			unsetenv("IOMMUFD_IOAS_ID");
		}
		execvp(args[0], args);
		err = errno;
		if (!replace) {
			fprintf(stderr, "iommuctl: %s: exec: %s\n", args[0], strerror(err));
			_exit(err == ENOENT ? 127 : 126);
		}
		/* Back to close-on-exec: the session goes on in this process. */
		fcntl(iommufd_ctx_fd(s->ctx), F_SETFD, FD_CLOEXEC);
		for (size_t i = 0; i < s->ndevs; i++)
			fcntl(iommufd_device_fd(s->devs[i].dev), F_SETFD, FD_CLOEXEC);
		status = call_fail(&c, err == ENOENT ? EXIT_NOT_FOUND : EXIT_PERMISSION, err, "%s: exec: %s", args[0],
				   strerror(err));
		session_argv_free(args);
		return status;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			session_argv_free(args);
			return call_fail(&c, EXIT_FAILURE_IO, errno, "exec: waitpid: %s", strerror(errno));
		}
	*child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	session_argv_free(args);
	return EXIT_OK;
}

static int c_exec(struct call *c)
{
	int child, status;
	char **argv = calloc((size_t)c->npos + 1, sizeof(char *));

	if (!argv)
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	memcpy(argv, c->pos, (size_t)c->npos * sizeof(char *));
	c->s->child_to_stderr = c->quiet;
	status = session_exec(c->s, argv, false, &child, c->r);
	free(argv);
	if (status)
		return status;
	json_object_object_add(c->out, "command", json_object_new_string(c->pos[0]));
	json_object_object_add(c->out, "exit_status", json_object_new_int(child));
	if (child != 0)
		return call_fail(c, EXIT_NO, 0, "%s: exited with status %d", c->pos[0], child);
	return 0;
}

static int c_help(struct call *c);

/* list, show and check: the CLI's own handlers, their output captured in JSON mode. */
static int c_readonly(struct call *c)
{
	const struct command *cmd = find_command(c->cmd->name);
	struct global_opts g = c->s->g;
	char **argv = calloc((size_t)c->npos + 2, sizeof(char *));
	FILE *out = NULL, *err = tmpfile();
	int saved_out = -1, saved_err = -1, status;

	if (!argv || !cmd || !err) {
		free(argv);
		if (err)
			fclose(err);
		return call_fail(c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	}
	argv[0] = (char *)c->cmd->name;
	memcpy(argv + 1, c->pos, (size_t)c->npos * sizeof(char *));
	g.json = c->quiet;
	fflush(stdout);
	fflush(stderr);
	if (c->quiet) {
		out = tmpfile();
		saved_out = dup(STDOUT_FILENO);
		if (out)
			dup2(fileno(out), STDOUT_FILENO);
	}
	saved_err = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	status = cmd->run(cmd, &g, c->npos + 1, argv);
	fflush(stdout);
	fflush(stderr);
	if (saved_out >= 0) {
		dup2(saved_out, STDOUT_FILENO);
		close(saved_out);
	}
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	free(argv);
	if (out) {
		long len;
		char *text;

		fseek(out, 0, SEEK_END);
		len = ftell(out);
		rewind(out);
		text = calloc((size_t)(len > 0 ? len : 0) + 1, 1);
		if (text && len > 0 && fread(text, 1, (size_t)len, out) == (size_t)len) {
			json_object *parsed = json_tokener_parse(text);

			if (parsed) {
				json_object_put(c->out);
				c->out = parsed;
			}
		}
		free(text);
		fclose(out);
	}
	if (status) {
		char line[2048] = "";

		rewind(err);
		if (!fgets(line, sizeof(line), err))
			snprintf(line, sizeof(line), "%s failed", c->cmd->name);
		line[strcspn(line, "\n")] = '\0';
		call_fail(c, status, 0, "%s", strncmp(line, "iommuctl: ", 10) == 0 ? line + 10 : line);
	}
	fclose(err);
	return status;
}

static const struct cmd_option o_none[] = { { NULL, 0, NULL, NULL, NULL } };
static const struct cmd_option o_open[] = {
	{ "vf-token", 0, "UUID", "VF token for an SR-IOV VF whose PF is on vfio-pci", NULL },
	{ "unbound", 0, NULL, "open the cdev but do not bind it (state opened; for a program that binds it, as QEMU does)", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
static const struct cmd_option o_map[] = {
	{ "iova", 0, "ADDR", "map at ADDR (default: the kernel chooses)", NULL },
	{ "length", 0, "SIZE", "bytes to map (4K, 2M, 1G suffixes)", NULL },
	{ "hugepages", 0, NULL, "back the mapping with 2 MiB huge pages", NULL },
	{ "file", 0, "PATH", "map the file PATH (memfd or hugetlbfs file; mmap'ed on older kernels)", "file" },
	{ "readonly", 0, NULL, "the device may only read", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
static const struct cmd_option o_unmap[] = {
	{ "all", 0, NULL, "remove every mapping of the IOAS", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
static const struct cmd_option o_copy[] = {
	{ "iova", 0, "ADDR", "place the copy at ADDR in DST (default: the kernel chooses)", NULL },
	{ "readonly", 0, NULL, "the device may only read the copy", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
static const struct cmd_option o_hwpt[] = {
	{ "dirty-tracking", 0, NULL, "ask the IOMMU to track dirty pages", NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
/* list, show and check parse their own options: pass everything through. */
static const struct cmd_option o_pass[] = { { NULL, 0, NULL, NULL, NULL } };

static const struct scmd scmds[] = {
	{ "open", "DEV", "open DEV's VFIO cdev and bind it to the session's iommufd (blocked: no DMA)", o_open, 1, 1,
	  c_open, true },
	{ "close", "DEV", "close DEV (unbound from the iommufd; the group returns to the kernel with its last device)",
	  o_none, 1, 1, c_close, true },
	{ "attach", "DEV IOAS|HWPT", "attach DEV to an IOAS or HWPT (DMA reaches what it maps); replaces when attached",
	  o_none, 2, 2, c_attach, true },
	{ "detach", "DEV", "detach DEV (blocked again)", o_none, 1, 1, c_detach, true },
	{ "ioas alloc", "[NAME]", "allocate an IOAS, optionally named", o_none, 0, 1, c_ioas_alloc, true },
	{ "ioas map", "IOAS", "map memory the session allocates (or a file) into IOAS", o_map, 1, 1, c_ioas_map, true },
	{ "ioas unmap", "IOAS IOVA LENGTH|--all", "unmap whole mappings in [IOVA, IOVA+LENGTH), or all", o_unmap, 1, 3,
	  c_ioas_unmap, true },
	{ "ioas copy", "DST SRC IOVA LENGTH", "map into DST the pages SRC maps at IOVA", o_copy, 4, 4, c_ioas_copy,
	  true },
	{ "ioas ranges", "IOAS", "the IOVA ranges that can be mapped now", o_none, 1, 1, c_ioas_ranges, true },
	{ "ioas allow", "IOAS [RANGE...]", "restrict kernel-chosen IOVAs to RANGEs (START-LAST or START+SIZE)", o_none,
	  1, -1, c_ioas_allow, true },
	{ "hwpt alloc", "DEV IOAS [NAME]", "allocate a HWPT for DEV translating through IOAS", o_hwpt, 2, 3,
	  c_hwpt_alloc, true },
	{ "info", "DEV", "the IOMMU behind DEV (IOMMU_GET_HW_INFO) and the kernel's iommufd features", o_none, 1, 1,
	  c_info, true },
	{ "destroy", "ID|NAME", "destroy an IOAS or HWPT", o_none, 1, 1, c_destroy, true },
	{ "option", "[rlimit-mode [user|process] | huge-pages IOAS [on|off]]", "show or set iommufd options", o_none, 0,
	  3, c_option, true },
	{ "state", "", "the session's devices (with their group siblings) and objects", o_none, 0, 0, c_state, true },
	{ "exec", "[--] CMD [ARGS...]", "run CMD with the session's fds inherited and wait for it", o_none, 1, -1, c_exec,
	  false },
	{ "list", "[OPTIONS]", "as iommuctl list", o_pass, 0, -1, c_readonly, false },
	{ "show", "DEV|GROUP...", "as iommuctl show", o_pass, 0, -1, c_readonly, false },
	{ "check", "[DEV|GROUP...]", "as iommuctl check", o_pass, 0, -1, c_readonly, false },
	{ "help", "[COMMAND]", "list the session commands", o_none, 0, 2, c_help, false },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, false },
};

const struct session_command *session_commands(void)
{
	static struct session_command table[sizeof(scmds) / sizeof(*scmds)];

	for (size_t i = 0; i < sizeof(scmds) / sizeof(*scmds); i++)
		table[i] = (struct session_command){ scmds[i].name, scmds[i].args, scmds[i].summary, scmds[i].options };
	return table;
}

static int c_help(struct call *c)
{
	json_object *arr = json_object_new_array();

	for (const struct scmd *s = scmds; s->name; s++) {
		json_object *o;

		if (c->npos && strncmp(s->name, c->pos[0], strlen(c->pos[0])) != 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "command", json_object_new_string(s->name));
		json_object_object_add(o, "args", json_object_new_string(s->args));
		json_object_object_add(o, "summary", json_object_new_string(s->summary));
		json_object_array_add(arr, o);
		if (!c->quiet) {
			printf("%s %s\n    %s\n", s->name, s->args, s->summary);
			for (const struct cmd_option *o2 = s->options; o2->name; o2++)
				printf("    --%s%s%s  %s\n", o2->name, o2->arg ? " " : "", o2->arg ? o2->arg : "", o2->help);
		}
	}
	json_object_object_add(c->out, "commands", arr);
	return 0;
}

/* ---- dispatch ---- */

static void render(const struct scmd *cmd, json_object *out)
{
	static const struct column dev_cols[] = {
		{ "DEVICE", "address", false }, { "STATE", "state", false }, { "DRIVER", "driver", false },
		{ "GROUP", "iommu_group", true }, { "ATTACHED", "attached_to", true }, { "NAME", "attached_to_name", false },
		{ "HWPT", "hwpt", true },       { "HOLDERS", "holders_text", false }, { NULL, NULL, false },
	};
	static const struct column obj_cols[] = {
		{ "ID", "id", true },       { "TYPE", "type", false },         { "NAME", "name", false },
		{ "IOAS", "ioas", true },   { "MAPPINGS", "mapping_count", true }, { "DEVICES", "devices", false },
		{ NULL, NULL, false },
	};
	json_object *devs, *objs;

	if (strcmp(cmd->name, "state") != 0) {
		render_tree(out, 0);
		return;
	}
	json_object_object_get_ex(out, "devices", &devs);
	json_object_object_get_ex(out, "objects", &objs);
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i), *h;
		char text[256] = "";

		json_object_object_get_ex(d, "holders", &h);
		for (size_t j = 0; j < json_object_array_length(h); j++) {
			json_object *e = json_object_array_get_idx(h, j), *pid, *comm, *node;
			size_t len = strlen(text);

			json_object_object_get_ex(e, "pid", &pid);
			json_object_object_get_ex(e, "command", &comm);
			json_object_object_get_ex(e, "node", &node);
			snprintf(text + len, sizeof(text) - len, "%s%d(%s,%s)", j ? "," : "", json_object_get_int(pid),
				 comm ? json_object_get_string(comm) : "?", json_object_get_string(node));
		}
		json_object_object_add(d, "holders_text", text[0] ? json_object_new_string(text) : NULL);
	}
	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		json_object *o = json_object_array_get_idx(objs, i), *m;

		json_object_object_get_ex(o, "mappings", &m);
		json_object_object_add(o, "mapping_count", json_object_new_int((int)json_object_array_length(m)));
	}
	render_table(dev_cols, devs);
	if (json_object_array_length(objs)) {
		putchar('\n');
		render_table(obj_cols, objs);
	}
	for (size_t i = 0; i < json_object_array_length(devs); i++)
		json_object_object_del(json_object_array_get_idx(devs, i), "holders_text");
	for (size_t i = 0; i < json_object_array_length(objs); i++)
		json_object_object_del(json_object_array_get_idx(objs, i), "mapping_count");
}

void session_result_clear(struct session_result *r)
{
	json_object_put(r->result);
	memset(r, 0, sizeof(*r));
}

int session_execute(struct session *s, int argc, char **argv, bool quiet, struct session_result *r)
{
	const struct scmd *cmd = NULL;
	struct call c = { .s = s, .r = r, .quiet = quiet };
	int used = 1, status;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		return 0;
	for (const struct scmd *t = scmds; t->name; t++) {
		size_t len = strlen(argv[0]);

		if (strcmp(t->name, argv[0]) == 0) {
			cmd = t;
			break;
		}
		if (argc > 1 && strncmp(t->name, argv[0], len) == 0 && t->name[len] == ' ' &&
		    strcmp(t->name + len + 1, argv[1]) == 0) {
			cmd = t;
			used = 2;
			break;
		}
	}
	c.cmd = cmd;
	if (!cmd) {
		bool group = strcmp(argv[0], "ioas") == 0 || strcmp(argv[0], "hwpt") == 0;

		if (group && argc > 1)
			return call_fail(&c, EXIT_USAGE, EINVAL, "%s %s: unknown command (see 'help %s')", argv[0], argv[1],
					 argv[0]);
		if (group)
			return call_fail(&c, EXIT_USAGE, EINVAL, "%s: needs a sub-command (see 'help %s')", argv[0], argv[0]);
		return call_fail(&c, EXIT_USAGE, EINVAL, "%s: unknown command (see 'help')", argv[0]);
	}
	c.pos = calloc((size_t)argc + 1, sizeof(char *));
	if (!c.pos)
		return call_fail(&c, EXIT_FAILURE_IO, ENOMEM, "out of memory");
	for (int i = used; i < argc; i++) {
		const char *a = argv[i];
		int k = -1;

		if (cmd->run == c_readonly || (cmd->run == c_exec && (c.npos > 0 || strcmp(a, "--") != 0))) {
			c.pos[c.npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0 && cmd->run == c_exec)
			continue;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			c.pos[c.npos++] = argv[i];
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		for (int j = 0; cmd->options[j].name; j++)
			if (strlen(cmd->options[j].name) == nlen && memcmp(cmd->options[j].name, a + 2, nlen) == 0)
				k = j;
		if (k < 0) {
			free(c.pos);
			return call_fail(&c, EXIT_USAGE, EINVAL, "%s: unknown option %s", cmd->name, a);
		}
		if (c.optval[k]) {
			free(c.pos);
			return call_fail(&c, EXIT_USAGE, EINVAL, "%s: option --%s given twice", cmd->name, cmd->options[k].name);
		}
		if (cmd->options[k].arg) {
			if (eq)
				c.optval[k] = eq + 1;
			else if (i + 1 < argc)
				c.optval[k] = argv[++i];
			else {
				free(c.pos);
				return call_fail(&c, EXIT_USAGE, EINVAL, "%s: option --%s needs an argument", cmd->name,
						 cmd->options[k].name);
			}
		} else {
			if (eq) {
				free(c.pos);
				return call_fail(&c, EXIT_USAGE, EINVAL, "%s: option --%s takes no argument", cmd->name,
						 cmd->options[k].name);
			}
			c.optval[k] = "";
		}
	}
	if (c.npos < cmd->min || (cmd->max >= 0 && c.npos > cmd->max)) {
		free(c.pos);
		return call_fail(&c, EXIT_USAGE, EINVAL, "%s: %s (usage: %s %s)", cmd->name,
				 c.npos < cmd->min ? "missing argument" : "too many arguments", cmd->name, cmd->args);
	}
	c.out = json_object_new_object();
	status = cmd->run(&c);
	if (status && r->status == 0)
		r->status = status;
	r->result = c.out;
	if (!status && !quiet && cmd->print)
		render(cmd, c.out);
	free(c.pos);
	return r->status;
}
