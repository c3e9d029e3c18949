/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * walker: the floor for `iommuctl list -j` in bench/run.sh.
 *
 * Usage: walker [SYSROOT]      (default /)
 *
 * It reads the same set of files that `iommuctl --sysroot SYSROOT list -j`
 * reads (bench/run.sh checks that with strace) and prints the same bytes
 * (run.sh checks that with cmp), with the least work a plain C program needs
 * for that:
 *
 *   - every file is opened once, relative to one O_PATH root fd (as iommuctl
 *     does), read with one read() (two for reserved_regions, to see EOF) into
 *     a stack buffer;
 *   - directories are read with getdents64() directly, no DIR stream;
 *   - answers that depend only on a driver (its module link, and whether that
 *     module holds vfio_pci_core) or only on an ID (names from pci.ids through
 *     libpci's pci_lookup_name, hwdb disabled as in iommuctl) are asked once
 *     per distinct driver or ID;
 *   - the JSON is printed with stdio as it is produced, no document in memory.
 *
 * Files read that do not show in `list -j` are read all the same, because
 * iommuctl reads them for that command: subsystem_vendor/_device, the
 * sys/bus/pci/devices/BDF link (upstream path), and the sys/class/iommu
 * listing.  Nothing is read that iommuctl does not read: in particular no
 * per-device iommu_group link (membership comes from the groups' devices/
 * listings) and the iommu link of the first device of each group only.
 *
 * It is a measuring stick, not a tool: malformed input is reported and the
 * walker stops; memory is not freed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pci/pci.h>

static int rootfd = -1;
static char outbuf[1 << 20];

static _Noreturn void die(const char *path, const char *why)
{
	fprintf(stderr, "walker: %s: %s\n", path, why);
	exit(8);
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("malloc", strerror(errno));
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* ---- reading ---- */

/* A small attribute, trailing newline and blanks cut. Length, or -errno. */
static int read_attr(const char *path, char *buf, size_t size)
{
	int fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* A whole (small) file, read to EOF. Length, or -errno. */
static int read_all(const char *path, char *buf, size_t size)
{
	int fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1)
			die(path, "larger than the walker's buffer");
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

static int read_link(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(rootfd, path, buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The last component of a symlink's target ("../../bus/pci/drivers/e1000e" -> "e1000e"). */
static int link_base(const char *path, char *out, size_t size)
{
	char target[4096];
	const char *base;
	int err = read_link(path, target, sizeof(target));

	if (err)
		return err;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= size)
		die(path, "odd link target");
	strcpy(out, base);
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of a directory, sorted by name when @sorted. 0, or -errno (the names are then empty). */
static int list_dir(const char *path, struct names *out, bool sorted)
{
	char buf[32768];
	int fd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	out->n = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = getdents64(fd, buf, sizeof(buf));

		if (n < 0)
			die(path, strerror(errno));
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + off);

			off += de->d_reclen;
			if (de->d_name[0] == '.' &&
			    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->v = realloc(out->v, out->cap * sizeof(*out->v));
				if (!out->v)
					die(path, strerror(errno));
			}
			out->v[out->n++] = xstrdup(de->d_name);
		}
	}
	close(fd);
	if (sorted)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static void names_clear(struct names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	names->n = 0;
}

static unsigned int hex_attr(const char *path, const char *text)
{
	char *end;
	unsigned long v;

	if (text[0] != '0' || text[1] != 'x' || !isxdigit((unsigned char)text[2]))
		die(path, "malformed value");
	v = strtoul(text + 2, &end, 16);
	if (*end)
		die(path, "malformed value");
	return (unsigned int)v;
}

/* ---- the model, as small as the output allows ---- */

struct holder {
	int pid;
	const char *comm, *path;
	unsigned int group; /* for group holders */
	struct holder *next;
};

struct dev {
	char addr[13];
	unsigned int vendor, device, class;
	int numa;
	const char *vname, *dname;
	char *driver, *override, *cdev;
	bool vfio;
	unsigned int group;
	bool in_group;
	struct names net;
	struct holder *holders, **holders_tail;
};

static struct dev *devs;
static size_t ndevs;
static struct holder *group_holders, **group_holders_tail = &group_holders;

static int cmp_dev(const void *key, const void *item)
{
	return strcmp(key, ((const struct dev *)item)->addr);
}

static struct dev *find_dev(const char *addr)
{
	return bsearch(addr, devs, ndevs, sizeof(*devs), cmp_dev);
}

/* ---- answers asked once per driver or ID ---- */

struct memo {
	unsigned int key;
	const char *text;
	bool flag;
	struct memo *next;
};

static struct memo *driver_memo, *vendor_memo, *device_memo;
static struct pci_access *pacc;
static char pci_buf[256];

static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

static const char *pci_name(struct memo **memo, int what, unsigned int vendor, unsigned int device)
{
	unsigned int key = vendor << 16 | device;
	const char *name;
	struct memo *m;

	for (m = *memo; m; m = m->next)
		if (m->key == key)
			return m->text;
	name = pci_lookup_name(pacc, pci_buf, sizeof(pci_buf), what | PCI_LOOKUP_NO_NUMBERS, vendor, device);
	m = xmalloc(sizeof(*m));
	*m = (struct memo){ .key = key, .text = name ? xstrdup(name) : NULL, .next = *memo };
	*memo = m;
	return m->text;
}

/* vfio-pci itself, a device with a VFIO cdev, or a driver whose module holds vfio_pci_core. */
static bool driver_is_vfio(const struct dev *dev)
{
	char path[512], module[256];
	struct memo *m;
	bool vfio;

	if (strcmp(dev->driver, "vfio-pci") == 0 || dev->cdev)
		return true;
	for (m = driver_memo; m; m = m->next)
		if (strcmp(m->text, dev->driver) == 0)
			return m->flag;
	snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", dev->driver);
	vfio = false;
	if (link_base(path, module, sizeof(module)) == 0) {
		snprintf(path, sizeof(path), "sys/module/vfio_pci_core/holders/%s", module);
		vfio = faccessat(rootfd, path, F_OK, 0) == 0;
	}
	m = xmalloc(sizeof(*m));
	*m = (struct memo){ .text = dev->driver, .flag = vfio, .next = driver_memo };
	driver_memo = m;
	return vfio;
}

/* ---- loading ---- */

static void read_dev(struct dev *dev, const char *addr)
{
	char dir[64], path[512], text[256];
	struct names vfio = { 0 };
	size_t dl;
	int err;

	memset(dev, 0, sizeof(*dev));
	memcpy(dev->addr, addr, sizeof(dev->addr));
	dev->holders_tail = &dev->holders;
	dev->numa = -1;
	/* path = dir + "/" + the attribute, written in place. */
	dl = (size_t)snprintf(dir, sizeof(dir), "sys/bus/pci/devices/%s", addr);
	memcpy(path, dir, dl);
	path[dl] = '/';

#define ATTR(name) (strcpy(path + dl + 1, name), read_attr(path, text, sizeof(text)))
	if (ATTR("vendor") < 0)
		die(path, "unreadable");
	dev->vendor = hex_attr(path, text);
	if (ATTR("device") < 0)
		die(path, "unreadable");
	dev->device = hex_attr(path, text);
	if (ATTR("class") < 0)
		die(path, "unreadable");
	dev->class = hex_attr(path, text);
	/* Read because iommuctl reads them; list -j does not show them. */
	(void)ATTR("subsystem_vendor");
	(void)ATTR("subsystem_device");
	if (ATTR("numa_node") >= 0) {
		char *end;
		long node = strtol(text, &end, 10);

		if (*end || end == text || node < -1 || node > 65535)
			die(path, "malformed value");
		dev->numa = (int)node;
	}
	if (ATTR("driver_override") > 0 && strcmp(text, "(null)") != 0)
		dev->override = xstrdup(text);
#undef ATTR

	strcpy(path + dl + 1, "driver");
	if ((err = link_base(path, text, sizeof(text))) == 0)
		dev->driver = xstrdup(text);
	else if (err != -ENOENT)
		die(path, strerror(-err));

	strcpy(path + dl + 1, "vfio-dev");
	if (list_dir(path, &vfio, true) == 0)
		for (size_t i = 0; i < vfio.n; i++) {
			const char *name = vfio.v[i];

			if (strncmp(name, "vfio", 4) != 0 || !isdigit((unsigned char)name[4]))
				continue;
			snprintf(path, sizeof(path), "%s/vfio-dev/%s/dev", dir, name);
			err = read_attr(path, text, sizeof(text));
			if (err < 0 && err != -ENOENT)
				die(path, strerror(-err));
			dev->cdev = xmalloc(strlen(name) + sizeof("/dev/vfio/devices/"));
			strcpy(stpcpy(dev->cdev, "/dev/vfio/devices/"), name);
			break;
		}
	names_clear(&vfio);
	free(vfio.v);

	/* The device link itself: iommuctl takes the upstream bridge from it. */
	if ((err = read_link(dir, path, sizeof(path))) != 0 && err != -EINVAL)
		die(dir, strerror(-err));

	dev->vname = pci_name(&vendor_memo, PCI_LOOKUP_VENDOR, dev->vendor, 0);
	dev->dname = pci_name(&device_memo, PCI_LOOKUP_DEVICE, dev->vendor, dev->device);
}

static void load_devices(void)
{
	struct names names = { 0 };

	if (list_dir("sys/bus/pci/devices", &names, true) != 0)
		die("sys/bus/pci/devices", strerror(errno));
	devs = xmalloc((names.n + 1) * sizeof(*devs));
	for (size_t i = 0; i < names.n; i++) {
		if (strlen(names.v[i]) != 12)
			die(names.v[i], "not a PCI address");
		read_dev(&devs[ndevs++], names.v[i]);
	}
	for (size_t i = 0; i < ndevs; i++)
		if (devs[i].driver)
			devs[i].vfio = driver_is_vfio(&devs[i]);
}

/* sys/class/net/IF -> ../../devices/.../BDF[/virtioN]/net/IF: the last PCI address owns IF. */
static void load_netdevs(void)
{
	struct names names = { 0 };
	char path[512], target[4096];

	list_dir("sys/class/net", &names, true);
	for (size_t i = 0; i < names.n; i++) {
		const char *owner = NULL;
		struct dev *dev;

		snprintf(path, sizeof(path), "sys/class/net/%s", names.v[i]);
		if (read_link(path, target, sizeof(target)) != 0)
			continue;
		for (char *save = NULL, *part = strtok_r(target, "/", &save); part;
		     part = strtok_r(NULL, "/", &save))
			if (strlen(part) == 12 && part[4] == ':' && part[7] == ':' && part[10] == '.')
				owner = part;
		if (!owner || !(dev = find_dev(owner)))
			continue;
		if (dev->net.n == dev->net.cap) {
			dev->net.cap = dev->net.cap ? dev->net.cap * 2 : 2;
			dev->net.v = realloc(dev->net.v, dev->net.cap * sizeof(char *));
			if (!dev->net.v)
				die(path, strerror(errno));
		}
		dev->net.v[dev->net.n++] = names.v[i];
	}
}

/* Who holds /dev/vfio nodes open: proc/PID/fd/N links. */
static void load_holders(void)
{
	struct names pids = { 0 }, fds = { 0 };
	char path[512], node[256], comm[64];

	if (list_dir("proc", &pids, true) != 0)
		return;
	for (size_t i = 0; i < pids.n; i++) {
		const char *pid = pids.v[i];
		const char *held_comm = NULL;
		bool comm_read = false;

		if (!isdigit((unsigned char)pid[0]))
			continue;
		snprintf(path, sizeof(path), "proc/%s/fd", pid);
		if (list_dir(path, &fds, true) != 0)
			continue;
		for (size_t j = 0; j < fds.n; j++) {
			struct holder *h;
			struct dev *dev = NULL;
			char *end;
			unsigned long group;

			snprintf(path, sizeof(path), "proc/%s/fd/%s", pid, fds.v[j]);
			if (read_link(path, node, sizeof(node)) != 0 || strncmp(node, "/dev/vfio/", 10) != 0)
				continue;
			if (!comm_read) {
				snprintf(path, sizeof(path), "proc/%s/comm", pid);
				/* Unreadable (the process exited, or is not ours) or empty: null. */
				held_comm = read_attr(path, comm, sizeof(comm)) > 0 ? xstrdup(comm) : NULL;
				comm_read = true;
			}
			h = xmalloc(sizeof(*h));
			*h = (struct holder){ .pid = atoi(pid), .comm = held_comm, .path = xstrdup(node) };
			for (size_t k = 0; k < ndevs && !dev; k++)
				if (devs[k].cdev && strcmp(devs[k].cdev, node) == 0)
					dev = &devs[k];
			if (dev) {
				*dev->holders_tail = h;
				dev->holders_tail = &h->next;
			} else if (isdigit((unsigned char)node[10]) &&
				   (group = strtoul(node + 10, &end, 10), !*end) && group <= 0x7fffffff) {
				h->group = (unsigned int)group;
				*group_holders_tail = h;
				group_holders_tail = &h->next;
			} else {
				free(h);
			}
		}
		names_clear(&fds);
	}
}

/*
 * ---- printing, byte for byte as json-c's PRETTY|SPACED|NOSLASHESCAPE ----
 * Constant text goes out with fputs, numbers through a few lines of
 * conversion: printf's format parsing would cost more than the reading.
 */

#define I6 "      "
#define I8 "        "
#define I10 "          "
#define I12 "            "
#define I14 "              "

static void out(const char *s)
{
	fputs(s, stdout);
}

static void out_str(const char *s)
{
	const char *run = s;

	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c >= ' ' && c != '"' && c != '\\')
			continue;
		fwrite(run, 1, (size_t)(s - run), stdout);
		run = s + 1;
		switch (c) {
		case '"':  out("\\\""); break;
		case '\\': out("\\\\"); break;
		case '\b': out("\\b"); break;
		case '\f': out("\\f"); break;
		case '\n': out("\\n"); break;
		case '\r': out("\\r"); break;
		case '\t': out("\\t"); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out(esc);
		}
	}
	fwrite(run, 1, (size_t)(s - run), stdout);
	putchar('"');
}

static void out_str_or_null(const char *s)
{
	if (s)
		out_str(s);
	else
		out("null");
}

static void out_uint(unsigned long v)
{
	char buf[24], *p = buf + sizeof(buf);

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	out(p);
}

static void out_int(int v)
{
	if (v < 0) {
		putchar('-');
		out_uint(-(unsigned long)v);
	} else {
		out_uint((unsigned long)v);
	}
}

/* "0x" and exactly @digits hex digits, quoted (the values never have more). */
static void out_hex(unsigned long long v, int digits)
{
	char buf[24];

	buf[0] = '"';
	buf[1] = '0';
	buf[2] = 'x';
	for (int i = digits; i > 0; i--, v >>= 4)
		buf[2 + i] = "0123456789abcdef"[v & 15];
	buf[3 + digits] = '"';
	buf[4 + digits] = '\0';
	out(buf);
}

static void out_bool(bool b)
{
	out(b ? "true" : "false");
}

/* A holders array: @open is the objects' indent, @field their members', @close the bracket's. */
static void out_holders(const char *open, const char *field, const char *close, const struct holder *h,
			bool by_group, unsigned int group)
{
	bool first = true;

	out("[\n");
	for (; h; h = h->next) {
		if (by_group && h->group != group)
			continue;
		if (!first)
			out(",\n");
		first = false;
		out(open);
		out("{\n");
		out(field);
		out("\"pid\": ");
		out_int(h->pid);
		out(",\n");
		out(field);
		out("\"command\": ");
		out_str_or_null(h->comm);
		out(",\n");
		out(field);
		out("\"path\": ");
		out_str(h->path);
		out("\n");
		out(open);
		out("}");
	}
	if (!first)
		out("\n");
	out(close);
	out("]");
}

enum verdict { DRIVERLESS, VFIO, PCI_STUB, BRIDGE, BLOCKING };

static enum verdict verdict(const struct dev *dev)
{
	if (!dev->driver)
		return DRIVERLESS;
	if (dev->vfio)
		return VFIO;
	if (strcmp(dev->driver, "pci-stub") == 0)
		return PCI_STUB;
	if (strcmp(dev->driver, "pcieport") == 0)
		return BRIDGE;
	return BLOCKING;
}

static void out_dev(const struct dev *dev)
{
	static const char *const verdicts[] = { "driver-less", "vfio", "pci-stub", "bridge", "blocking" };
	enum verdict v = verdict(dev);

	out(I8 "{\n" I10 "\"address\": ");
	out_str(dev->addr);
	out(",\n" I10 "\"vendor_id\": ");
	out_hex(dev->vendor, 4);
	out(",\n" I10 "\"device_id\": ");
	out_hex(dev->device, 4);
	out(",\n" I10 "\"class\": ");
	out_hex(dev->class, 6);
	out(",\n" I10 "\"vendor_name\": ");
	out_str_or_null(dev->vname);
	out(",\n" I10 "\"device_name\": ");
	out_str_or_null(dev->dname);
	out(",\n" I10 "\"driver\": ");
	out_str_or_null(dev->driver);
	out(",\n" I10 "\"driver_override\": ");
	out_str_or_null(dev->override);
	out(",\n" I10 "\"iommu_group\": ");
	out_uint(dev->group);
	out(",\n" I10 "\"verdict\": \"");
	out(verdicts[v]);
	out("\",\n" I10 "\"reason\": ");
	switch (v) {
	case DRIVERLESS:
		out("\"no driver bound\"");
		break;
	case VFIO:
		if (strcmp(dev->driver, "vfio-pci") == 0) {
			out("\"bound to VFIO driver vfio-pci\"");
		} else {
			out("\"bound to vfio-pci variant driver ");
			out(dev->driver);
			out("\"");
		}
		break;
	case PCI_STUB:
		out("\"bound to pci-stub, which does no DMA\"");
		break;
	case BRIDGE:
		out("\"port driven by ");
		out(dev->driver);
		out(", which does no DMA of its own\"");
		break;
	case BLOCKING:
		out("\"bound to kernel driver ");
		out(dev->driver);
		out("\"");
		break;
	}
	out(",\n" I10 "\"bridge\": ");
	out_bool((dev->class >> 8) == 0x0604 || (dev->class >> 8) == 0x0609);
	out(",\n" I10 "\"numa_node\": ");
	if (dev->numa >= 0)
		out_int(dev->numa);
	else
		out("null");
	out(",\n" I10 "\"vfio_cdev\": ");
	out_str_or_null(dev->cdev);
	out(",\n" I10 "\"netdevs\": [\n");
	for (size_t i = 0; i < dev->net.n; i++) {
		out(i ? ",\n" I12 : I12);
		out_str(dev->net.v[i]);
	}
	out(dev->net.n ? "\n" I10 "],\n" I10 "\"holders\": " : I10 "],\n" I10 "\"holders\": ");
	out_holders(I12, I14, I10, dev->holders, false, 0);
	/* The generated host has no journal: load_journal() made sure. */
	out(",\n" I10 "\"journal\": null\n" I8 "}");
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return (x > y) - (x < y);
}

/* Read and print the groups, in number order (also those without a PCI device). */
static void walk_groups(void)
{
	struct names names = { 0 }, members = { 0 };
	struct dev **gdevs = xmalloc((ndevs + 1) * sizeof(*gdevs));
	unsigned int *ids;
	bool first_group = true;

	out("{\n  \"groups\": [\n");
	if (list_dir("sys/kernel/iommu_groups", &names, false) == 0 && names.n) {
		ids = xmalloc(names.n * sizeof(*ids));
		for (size_t i = 0; i < names.n; i++) {
			char *end;
			unsigned long id = strtoul(names.v[i], &end, 10);

			if (!isdigit((unsigned char)names.v[i][0]) || *end || id > 0x7fffffff)
				die(names.v[i], "not a group number");
			ids[i] = (unsigned int)id;
		}
		qsort(ids, names.n, sizeof(*ids), cmp_uint);
		for (size_t i = 0; i < names.n; i++) {
			char dir[64], path[512], type[64], resv[8192], iommu[256] = "";
			bool has_type, viable = true, first;
			size_t n = 0;

			snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%u", ids[i]);
			snprintf(path, sizeof(path), "%s/type", dir);
			has_type = read_attr(path, type, sizeof(type)) >= 0;
			snprintf(path, sizeof(path), "%s/reserved_regions", dir);
			if (read_all(path, resv, sizeof(resv)) < 0)
				resv[0] = '\0';
			snprintf(path, sizeof(path), "%s/devices", dir);
			list_dir(path, &members, true);
			for (size_t j = 0; j < members.n; j++) {
				struct dev *dev = find_dev(members.v[j]);

				if (!dev)
					continue;
				dev->group = ids[i];
				dev->in_group = true;
				gdevs[n++] = dev;
				viable &= verdict(dev) != BLOCKING;
				if (!iommu[0]) {
					snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/iommu", dev->addr);
					if (link_base(path, iommu, sizeof(iommu)) != 0)
						iommu[0] = '\0';
				}
			}
			names_clear(&members);

			out(first_group ? "    {\n" I6 "\"id\": " : ",\n    {\n" I6 "\"id\": ");
			first_group = false;
			out_uint(ids[i]);
			out(",\n" I6 "\"type\": ");
			out_str_or_null(has_type ? type : NULL);
			out(",\n" I6 "\"viable\": ");
			out_bool(viable);
			out(",\n" I6 "\"singleton\": ");
			out_bool(n == 1);
			out(",\n" I6 "\"identity\": ");
			out_bool(has_type && strcmp(type, "identity") == 0);
			out(",\n" I6 "\"iommu\": ");
			out_str_or_null(iommu[0] ? iommu : NULL);
			out(",\n" I6 "\"blocking\": [\n");
			first = true;
			for (size_t j = 0; j < n; j++)
				if (verdict(gdevs[j]) == BLOCKING) {
					out(first ? I8 : ",\n" I8);
					out_str(gdevs[j]->addr);
					first = false;
				}
			out(first ? I6 "],\n" I6 "\"reserved_regions\": [\n" : "\n" I6 "],\n" I6 "\"reserved_regions\": [\n");
			first = true;
			for (char *save = NULL, *line = strtok_r(resv, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				unsigned long long start, end;
				char rtype[24];

				if (sscanf(line, "0x%llx 0x%llx %23s", &start, &end, rtype) != 3)
					die(dir, "malformed reserved_regions");
				out(first ? I8 "{\n" I10 "\"start\": " : ",\n" I8 "{\n" I10 "\"start\": ");
				first = false;
				out_hex(start, 16);
				out(",\n" I10 "\"end\": ");
				out_hex(end, 16);
				out(",\n" I10 "\"type\": ");
				out_str(rtype);
				out("\n" I8 "}");
			}
			out(first ? I6 "],\n" I6 "\"holders\": " : "\n" I6 "],\n" I6 "\"holders\": ");
			out_holders(I8, I10, I6, group_holders, true, ids[i]);
			out(",\n" I6 "\"devices\": [\n");
			for (size_t j = 0; j < n; j++) {
				if (j)
					out(",\n");
				out_dev(gdevs[j]);
			}
			out(n ? "\n" I6 "]\n    }" : I6 "]\n    }");
		}
	}
	out(first_group ? "  ]\n}\n" : "\n  ]\n}\n");
}

/*
 * list -j reports each device's bind journal entry; iommuctl lists
 * run/iommuctl/devices under the sysroot once.  So does the floor, and it
 * refuses a tree with entries rather than print something else.
 */
static void load_journal(void)
{
	struct names entries = { 0 };

	list_dir("run/iommuctl/devices", &entries, false);
	if (entries.n)
		die("run/iommuctl/devices", "the walker does not print journal entries");
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "/";
	struct names iommus = { 0 };

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: walker [SYSROOT]\n");
		return 2;
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die(root, strerror(errno));
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	pacc = pci_alloc();
	pacc->warning = pci_quiet;
	pacc->debug = pci_quiet;
	/* As iommuctl: names from pci.ids only, not from the udev hwdb. */
	pci_set_param(pacc, "hwdb.disable", "1");

	load_devices();
	/* Listed because iommuctl lists it; list -j does not show it. */
	list_dir("sys/class/iommu", &iommus, true);
	load_netdevs();
	load_holders();
	load_journal();
	walk_groups();
	if (fflush(stdout) != 0)
		die("stdout", strerror(errno));
	return 0;
}
