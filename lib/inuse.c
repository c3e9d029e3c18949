/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What would break if a PCI device left its driver: interfaces, disks, consoles. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "iommufd/bind.h"

struct users {
	struct iommufd_dev_user *items;
	size_t count, cap;
	int err;
};

static void add_user(struct users *u, const char *kind, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add_user(struct users *u, const char *kind, const char *name, const char *fmt, ...)
{
	struct iommufd_dev_user *it;
	va_list ap;

	if (u->count == u->cap) {
		struct iommufd_dev_user *grown = realloc(u->items, (u->cap = u->cap ? u->cap * 2 : 4) * sizeof(*grown));

		if (!grown) {
			u->err = -ENOMEM;
			return;
		}
		u->items = grown;
	}
	it = &u->items[u->count++];
	snprintf(it->kind, sizeof(it->kind), "%s", kind);
	snprintf(it->name, sizeof(it->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(it->what, sizeof(it->what), fmt, ap);
	va_end(ap);
}

static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Whether the symlink @path resolves (textually) into the device directory of @address. */
static bool link_under(const char *path, const char *address)
{
	char target[PATH_MAX], needle[24];
	ssize_t n = readlink(path, target, sizeof(target) - 2);

	if (n <= 0)
		return false;
	target[n] = '/';
	target[n + 1] = '\0';
	snprintf(needle, sizeof(needle), "/%s/", address);
	return strstr(target, needle) != NULL;
}

/* ---- network ---- */

/* "0100000A" (little-endian hex from proc/net/route) as dotted quad. */
static void route_addr(const char *hex, char *out, size_t size)
{
	struct in_addr a;

	a.s_addr = (in_addr_t)strtoul(hex, NULL, 16);
	inet_ntop(AF_INET, &a, out, (socklen_t)size);
}

static int prefix_len(const char *hexmask)
{
	unsigned long m = strtoul(hexmask, NULL, 16);

	return __builtin_popcountl(m);
}

static void net_users(struct users *u, const char *root, const char *ifname, bool live)
{
	char path[PATH_MAX], text[256], line[512];
	unsigned int flags = 0;
	bool up, used = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/class/net/%s/master", root, ifname);
	ssize_t len = readlink(path, text, sizeof(text) - 1);
	if (len > 0) {
		text[len] = '\0';
		add_user(u, "net", ifname, "is a member of %s", strrchr(text, '/') ? strrchr(text, '/') + 1 : text);
	}
	snprintf(path, sizeof(path), "%s/sys/class/net/%s/flags", root, ifname);
	if (read_small(path, text, sizeof(text)) == 0)
		flags = (unsigned int)strtoul(text, NULL, 0);
	snprintf(path, sizeof(path), "%s/sys/class/net/%s/operstate", root, ifname);
	up = (flags & IFF_UP) || (read_small(path, text, sizeof(text)) == 0 && strcmp(text, "up") == 0);
	if (!up)
		return;

	/* Routes: Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
	snprintf(path, sizeof(path), "%s/proc/net/route", root);
	f = fopen(path, "re");
	if (f) {
		char dflt[64] = "", first[64] = "";
		int nroutes = 0;

		while (fgets(line, sizeof(line), f)) {
			char iface[32], dst[16], gw[16], mask[16];

			if (sscanf(line, "%31s %15s %15s %*s %*s %*s %*s %15s", iface, dst, gw, mask) != 4 ||
			    strcmp(iface, ifname) != 0)
				continue;
			if (strcmp(dst, "00000000") == 0 && strcmp(mask, "00000000") == 0) {
				route_addr(gw, dflt, sizeof(dflt));
			} else {
				char a[INET_ADDRSTRLEN];

				route_addr(dst, a, sizeof(a));
				if (!first[0])
					snprintf(first, sizeof(first), "%s/%d", a, prefix_len(mask));
			}
			nroutes++;
		}
		fclose(f);
		if (dflt[0]) {
			add_user(u, "net", ifname, "carries the default route (via %s)", dflt);
			used = true;
		} else if (nroutes) {
			add_user(u, "net", ifname, "carries the route to %s%s", first, nroutes > 1 ? " and others" : "");
			used = true;
		}
	}
	/* IPv6: address(32 hex) ifindex prefixlen scope flags name; link-local (scope 20) alone is no use. */
	snprintf(path, sizeof(path), "%s/proc/net/if_inet6", root);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char hex[40], name[32];
			unsigned int scope, plen;

			if (sscanf(line, "%39s %*x %x %x %*x %31s", hex, &plen, &scope, name) != 4 ||
			    strcmp(name, ifname) != 0 || scope == 0x20 || scope == 0x10)
				continue;
			struct in6_addr a6;
			char a[INET6_ADDRSTRLEN];

			for (size_t i = 0; i < 16; i++) {
				unsigned int byte = 0;

				sscanf(hex + 2 * i, "%2x", &byte);
				a6.s6_addr[i] = (uint8_t)byte;
			}
			inet_ntop(AF_INET6, &a6, a, sizeof(a));
			add_user(u, "net", ifname, "has address %s/%u", a, plen);
			used = true;
			break;
		}
		fclose(f);
	}
	/* IPv4 addresses come from netlink; only the live system has them. */
	if (live && !used) {
		struct ifaddrs *ifa, *it;

		if (getifaddrs(&ifa) == 0) {
			for (it = ifa; it; it = it->ifa_next) {
				char a[INET_ADDRSTRLEN];

				if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET || strcmp(it->ifa_name, ifname) != 0)
					continue;
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)it->ifa_addr)->sin_addr, a, sizeof(a));
				add_user(u, "net", ifname, "has address %s", a);
				break;
			}
			freeifaddrs(ifa);
		}
	}
}

/* ---- block ---- */

struct names {
	char (*name)[64];
	char (*devt)[16];
	size_t count, cap;
};

static void names_add(struct names *n, const char *root, const char *name)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < n->count; i++)
		if (strcmp(n->name[i], name) == 0)
			return;
	if (n->count == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		char(*nn)[64] = realloc(n->name, cap * sizeof(*nn));
		char(*dd)[16];

		if (!nn)
			return;
		n->name = nn;
		dd = realloc(n->devt, cap * sizeof(*dd));
		if (!dd)
			return;
		n->devt = dd;
		n->cap = cap;
	}
	snprintf(n->name[n->count], 64, "%s", name);
	snprintf(path, sizeof(path), "%s/sys/class/block/%s/dev", root, name);
	if (read_small(path, n->devt[n->count], 16) != 0)
		n->devt[n->count][0] = '\0';
	n->count++;
}

/* @name, its partitions and, recursively, everything in its holders/. */
static void block_stack(struct names *n, const char *root, const char *name, int depth)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if (depth > 8)
		return;
	names_add(n, root, name);
	snprintf(path, sizeof(path), "%s/sys/class/block/%s", root, name);
	dp = opendir(path);
	if (dp) {
		while ((d = readdir(dp))) {
			char part[PATH_MAX + 300];

			if (d->d_name[0] == '.')
				continue;
			snprintf(part, sizeof(part), "%s/%s/partition", path, d->d_name);
			if (access(part, F_OK) == 0)
				block_stack(n, root, d->d_name, depth + 1);
		}
		closedir(dp);
	}
	snprintf(path, sizeof(path), "%s/sys/class/block/%s/holders", root, name);
	dp = opendir(path);
	if (dp) {
		while ((d = readdir(dp)))
			if (d->d_name[0] != '.')
				block_stack(n, root, d->d_name, depth + 1);
		closedir(dp);
	}
}

/* mountinfo's mount point field unescaped ("\040" is a space). */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void block_users(struct users *u, const char *root, struct names *n)
{
	char path[PATH_MAX], line[4096];
	FILE *f;

	/* mountinfo: id parent major:minor root mountpoint ... */
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char devt[32], mnt[2048];

			if (sscanf(line, "%*s %*s %31s %*s %2047s", devt, mnt) != 2)
				continue;
			for (size_t i = 0; i < n->count; i++) {
				if (!n->devt[i][0] || strcmp(n->devt[i], devt) != 0)
					continue;
				unescape(mnt);
				if (strcmp(mnt, "/") == 0)
					add_user(u, "block", n->name[i], "holds the root file system /");
				else
					add_user(u, "block", n->name[i], "is mounted on %s", mnt);
			}
		}
		fclose(f);
	}
	/* swaps: Filename Type Size Used Priority; match the device name or the dm name. */
	snprintf(path, sizeof(path), "%s/proc/swaps", root);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char file[1024];
			const char *base;

			if (sscanf(line, "%1023s", file) != 1 || file[0] != '/')
				continue;
			base = strrchr(file, '/') + 1;
			for (size_t i = 0; i < n->count; i++) {
				char dm[64] = "";

				snprintf(path, sizeof(path), "%s/sys/class/block/%s/dm/name", root, n->name[i]);
				(void)read_small(path, dm, sizeof(dm));
				if (strcmp(base, n->name[i]) == 0 || (dm[0] && strcmp(base, dm) == 0))
					add_user(u, "block", n->name[i], "is used as swap (%s)", file);
			}
		}
		fclose(f);
	}
}

/* ---- display ---- */

static void display_users(struct users *u, const char *root, const char *address)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	bool fbcon = false, any = false;

	snprintf(path, sizeof(path), "%s/sys/class/vtconsole", root);
	dp = opendir(path);
	if (dp) {
		while ((d = readdir(dp))) {
			char bind[8] = "", text[128];

			if (strncmp(d->d_name, "vtcon", 5) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/sys/class/vtconsole/%s/name", root, d->d_name);
			(void)read_small(path, text, sizeof(text));
			snprintf(path, sizeof(path), "%s/sys/class/vtconsole/%s/bind", root, d->d_name);
			(void)read_small(path, bind, sizeof(bind));
			if (strstr(text, "frame buffer") && strcmp(bind, "1") == 0)
				fbcon = true;
		}
		closedir(dp);
	}
	snprintf(path, sizeof(path), "%s/sys/class/graphics", root);
	dp = opendir(path);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (strncmp(d->d_name, "fb", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/sys/class/graphics/%s/device", root, d->d_name);
		if (!link_under(path, address))
			continue;
		add_user(u, "display", d->d_name, fbcon && !any ? "drives the framebuffer console"
							      : "is a framebuffer of the device");
		any = true;
	}
	closedir(dp);
}

IOMMUFD_EXPORT int iommufd_dev_users(const char *sysroot, const char *address, struct iommufd_dev_user **out,
				     size_t *count)
{
	char root[PATH_MAX] = "", path[PATH_MAX * 2];
	struct users u = { 0 };
	struct names blk = { 0 };
	struct dirent *d;
	DIR *dp;
	bool live = !sysroot || strcmp(sysroot, "/") == 0;

	*out = NULL;
	*count = 0;
	if (!live)
		snprintf(root, sizeof(root), "%s", sysroot);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, address);
	if (strchr(address, '/') || access(path, F_OK) != 0)
		return -ENODEV;

	snprintf(path, sizeof(path), "%s/sys/class/net", root);
	dp = opendir(path);
	if (dp) {
		while ((d = readdir(dp))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/sys/class/net/%s", root, d->d_name);
			if (link_under(path, address))
				net_users(&u, root, d->d_name, live);
		}
		closedir(dp);
	}
	snprintf(path, sizeof(path), "%s/sys/block", root);
	dp = opendir(path);
	if (dp) {
		while ((d = readdir(dp))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/sys/block/%s", root, d->d_name);
			if (link_under(path, address))
				block_stack(&blk, root, d->d_name, 0);
		}
		closedir(dp);
	}
	if (blk.count)
		block_users(&u, root, &blk);
	free(blk.name);
	free(blk.devt);
	display_users(&u, root, address);
	if (u.err) {
		free(u.items);
		return u.err;
	}
	*out = u.items;
	*count = u.count;
	return 0;
}
