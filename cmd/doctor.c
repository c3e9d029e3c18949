/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommuctl doctor: is this host ready for device assignment, and if not,
 * what to change.  Every check reads files under --sysroot (listed in
 * doc/contracts.md, section "doctor"), so it runs on fixtures and snapshots;
 * only the kernel feature probe opens /dev/iommu, and only on the live system.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommuctl.h"
#include "iommufd/iommufd.h"

/* What a typical assignment pins: a small VM's memory (1 GiB). */
#define MEMLOCK_TYPICAL (1ULL << 30)
#define CAP_IPC_LOCK_BIT 14

struct doctor {
	const char *root; /* sysroot, "/" for the live system */
	bool live;
	json_object *checks;
	char release[128]; /* proc/sys/kernel/osrelease, "" when unknown */
};

static char *path_of(const struct doctor *d, const char *rel, char *buf, size_t size)
{
	size_t len = strlen(d->root);

	snprintf(buf, size, "%s%s%s", d->root, len && d->root[len - 1] == '/' ? "" : "/", rel);
	return buf;
}

static bool exists(const struct doctor *d, const char *rel)
{
	char p[4096];

	return access(path_of(d, rel, p, sizeof(p)), F_OK) == 0;
}

/* Read a small file under the root; NULL when it cannot be read.  Trailing newline removed. */
static char *read_text(const struct doctor *d, const char *rel, size_t max)
{
	char p[4096], *buf;
	size_t n;
	FILE *f = fopen(path_of(d, rel, p, sizeof(p)), "re");

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Names in a directory under the root (not dot files), sorted; count in *n. NULL if absent or empty. */
static char **list_dir(const struct doctor *d, const char *rel, size_t *n)
{
	char p[4096], **names = NULL;
	struct dirent *e;
	DIR *dir = opendir(path_of(d, rel, p, sizeof(p)));
	size_t cap = 0, count = 0;

	*n = 0;
	if (!dir)
		return NULL;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (!names || count == cap) {
			char **more;

			cap = cap ? 2 * cap : 16;
			more = realloc(names, cap * sizeof(*names));
			if (!more) {
				closedir(dir);
				free_list(names, count);
				return NULL;
			}
			names = more;
		}
		names[count++] = strdup(e->d_name);
	}
	closedir(dir);
	if (names)
		qsort(names, count, sizeof(*names), cmp_str);
	*n = count;
	return names;
}

static void add_check(struct doctor *d, const char *id, const char *title, const char *verdict,
		      const char *observed, const char *remedy)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "id", json_object_new_string(id));
	json_object_object_add(c, "title", json_object_new_string(title));
	json_object_object_add(c, "verdict", json_object_new_string(verdict));
	json_object_object_add(c, "observed", json_object_new_string(observed));
	json_object_object_add(c, "remedy", remedy ? json_object_new_string(remedy) : NULL);
	json_object_array_add(d->checks, c);
}

/* Append ", name" (or "name" first) to a fixed buffer. */
static void append(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf), wlen = strlen(word);

	if (len && len + 2 < size) {
		memcpy(buf + len, ", ", 2);
		len += 2;
	}
	if (wlen > size - len - 1)
		wlen = size - len - 1;
	memcpy(buf + len, word, wlen);
	buf[len + wlen] = '\0';
}

/* Does the module exist for this kernel: loaded, built in, or in modules.dep? */
enum availability { MOD_LOADED, MOD_BUILTIN, MOD_LOADABLE, MOD_ABSENT };

static bool file_has_module(const struct doctor *d, const char *file, const char *ko)
{
	char rel[512], *text, *line;
	bool found = false;
	size_t klen = strlen(ko);

	if (!d->release[0])
		return false;
	snprintf(rel, sizeof(rel), "lib/modules/%s/%s", d->release, file);
	text = read_text(d, rel, 4 << 20);
	if (!text)
		return false;
	for (line = text; line && *line && !found;) {
		char *end = strchr(line, '\n'), *colon;
		const char *base;

		if (end)
			*end = '\0';
		colon = strchr(line, ':');
		if (colon)
			*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		found = strncmp(base, ko, klen) == 0 && (base[klen] == '\0' || base[klen] == '.');
		line = end ? end + 1 : NULL;
	}
	free(text);
	return found;
}

static enum availability module_state(const struct doctor *d, const char *mod, const char *ko)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/module/%s", mod);
	if (exists(d, rel)) {
		/* Built-in modules with parameters also have sys/module/NAME, without initstate. */
		snprintf(rel, sizeof(rel), "sys/module/%s/initstate", mod);
		if (exists(d, rel) || !file_has_module(d, "modules.builtin", ko))
			return MOD_LOADED;
		return MOD_BUILTIN;
	}
	if (file_has_module(d, "modules.builtin", ko))
		return MOD_BUILTIN;
	if (file_has_module(d, "modules.dep", ko))
		return MOD_LOADABLE;
	return MOD_ABSENT;
}

/* ---- the checks ---- */

static void check_hardware(struct doctor *d, struct iommufd_topo *topo)
{
	static const char *const tables[] = { "DMAR", "IVRS", "VIOT", NULL };
	char fw[256] = "", obs[1024], rel[128], units[512] = "";
	size_t n = iommufd_topo_iommu_count(topo), ndt = 0;
	char **dt;

	for (const char *const *t = tables; *t; t++) {
		snprintf(rel, sizeof(rel), "sys/firmware/acpi/tables/%s", *t);
		if (exists(d, rel))
			append(fw, sizeof(fw), *t);
	}
	/* Device-tree IOMMUs: nodes with an #iommu-cells property, one level below the root. */
	dt = list_dir(d, "sys/firmware/devicetree/base", &ndt);
	for (size_t i = 0; dt && i < ndt; i++) {
		snprintf(rel, sizeof(rel), "sys/firmware/devicetree/base/%.64s/#iommu-cells", dt[i]);
		if (exists(d, rel)) {
			char word[96];

			snprintf(word, sizeof(word), "device tree %.64s", dt[i]);
			append(fw, sizeof(fw), word);
		}
	}
	free_list(dt, ndt);
	for (size_t i = 0; i < n; i++)
		append(units, sizeof(units), iommufd_topo_iommu(topo, i));
	if (n) {
		snprintf(obs, sizeof(obs), "%zu IOMMU unit%s (%s)%s%s%s", n, n == 1 ? "" : "s", units,
			 fw[0] ? "; firmware describes it: " : "", fw, fw[0] ? "" : "; no ACPI table or device-tree node seen");
		add_check(d, "iommu_hardware", "IOMMU hardware", "pass", obs, NULL);
	} else if (fw[0]) {
		snprintf(obs, sizeof(obs), "firmware describes an IOMMU (%s) but the kernel registered none", fw);
		add_check(d, "iommu_hardware", "IOMMU hardware", "fail", obs,
			  "the kernel did not enable it: boot with intel_iommu=on (Intel) or without amd_iommu=off "
			  "(AMD), and check dmesg for DMAR/AMD-Vi errors");
	} else {
		add_check(d, "iommu_hardware", "IOMMU hardware", "fail",
			  "no IOMMU: no ACPI DMAR/IVRS/VIOT table, no device-tree IOMMU, sys/class/iommu empty",
			  "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup");
	}
}

static void check_enabled(struct doctor *d, struct iommufd_topo *topo)
{
	size_t n = iommufd_topo_group_count(topo);

	if (n) {
		char obs[128];

		snprintf(obs, sizeof(obs), "%zu IOMMU group%s", n, n == 1 ? "" : "s");
		add_check(d, "iommu_enabled", "IOMMU enabled", "pass", obs, NULL);
	} else {
		add_check(d, "iommu_enabled", "IOMMU enabled", "fail", "no IOMMU groups in sys/kernel/iommu_groups",
			  "enable the IOMMU: VT-d/AMD-Vi in firmware, intel_iommu=on on Intel, no iommu=off; "
			  "or try iommuctl in a guest with an emulated IOMMU: make demo in its source tree");
	}
}

static void check_domains(struct doctor *d, struct iommufd_topo *topo)
{
	size_t n = iommufd_topo_group_count(topo), nident = 0;
	char ident[512] = "", obs[768], types[256] = "";

	for (size_t i = 0; i < n; i++) {
		struct iommufd_group *grp = iommufd_topo_group(topo, i);
		const char *type = iommufd_group_type(grp);

		if (iommufd_group_is_identity(grp)) {
			char word[32];

			snprintf(word, sizeof(word), "%u", iommufd_group_id(grp));
			if (nident++ < 24)
				append(ident, sizeof(ident), word);
		}
		if (type && !strstr(types, type))
			append(types, sizeof(types), type);
	}
	if (!n) {
		add_check(d, "default_domains", "default domain types", "warn", "no IOMMU groups to look at",
			  "see iommu_enabled");
	} else if (nident) {
		snprintf(obs, sizeof(obs), "%zu of %zu groups use an identity domain (no DMA translation until a "
					   "device is opened): %s%s",
			 nident, n, ident, nident > 24 ? ", ..." : "");
		add_check(d, "default_domains", "default domain types", "warn", obs,
			  "drop iommu=pt / iommu.passthrough=1 from the kernel command line so that host drivers "
			  "are isolated too; devices handed to user space are translated either way");
	} else {
		snprintf(obs, sizeof(obs), "%zu group%s, every one translating (%s)", n, n == 1 ? "" : "s",
			 types[0] ? types : "type unknown");
		add_check(d, "default_domains", "default domain types", "pass", obs, NULL);
	}
}

static bool cmdline_has(const char *cmdline, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = cmdline; (p = strstr(p, word)); p += len)
		if ((p == cmdline || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

static void check_irq_remapping(struct doctor *d, const char *cmdline)
{
	char *irqs = read_text(d, "proc/interrupts", 1 << 20), *unsafe, *unsafe1;
	bool ir = irqs && strstr(irqs, " IR-"), msi = irqs && strstr(irqs, "MSI"), allowed;
	char obs[512];

	unsafe = read_text(d, "sys/module/iommufd/parameters/allow_unsafe_interrupts", 16);
	unsafe1 = read_text(d, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", 16);
	allowed = (unsafe && unsafe[0] == 'Y') || (unsafe1 && unsafe1[0] == 'Y');
	if (!irqs) {
		add_check(d, "interrupt_remapping", "interrupt remapping", "warn", "proc/interrupts cannot be read",
			  "run on the host itself (or include proc/interrupts in the snapshot)");
	} else if (ir) {
		add_check(d, "interrupt_remapping", "interrupt remapping", "pass",
			  "interrupts are remapped (IR- chips in /proc/interrupts)", NULL);
	} else if (allowed) {
		snprintf(obs, sizeof(obs), "no remapped interrupts in /proc/interrupts%s; allow_unsafe_interrupts "
					   "is set: an assigned device can inject interrupts",
			 msi ? "" : " (no MSI seen)");
		add_check(d, "interrupt_remapping", "interrupt remapping", "warn", obs,
			  "enable interrupt remapping (x2APIC/IR in firmware, no intremap=off) and drop "
			  "allow_unsafe_interrupts");
	} else {
		snprintf(obs, sizeof(obs), "no remapped interrupts in /proc/interrupts%s%s", msi ? "" : " (no MSI seen)",
			 cmdline && (cmdline_has(cmdline, "intremap=off") || cmdline_has(cmdline, "nointremap"))
				 ? "; intremap=off on the command line"
				 : "");
		add_check(d, "interrupt_remapping", "interrupt remapping", "fail", obs,
			  "enable interrupt remapping (x2APIC/IR in firmware, remove intremap=off); iommufd and VFIO "
			  "refuse to attach devices without it unless allow_unsafe_interrupts=1, which is unsafe");
	}
	free(irqs);
	free(unsafe);
	free(unsafe1);
}

/* Is every comma-separated word of @value in @valid? */
static bool words_valid(const char *value, const char *const *valid)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		bool ok = false;

		for (const char *const *v = valid; *v && !ok; v++)
			ok = strcmp(w, *v) == 0;
		if (!ok)
			return false;
	}
	return value[0] != '\0';
}

static void check_cmdline(struct doctor *d, const char *cmdline)
{
	static const char *const intel[] = { "on", "off", "igfx_off", "forcedac", "strict", "sp_off", "sm_on",
					     "sm_off", "tboot_noforce", NULL };
	static const char *const amd[] = { "fullflush", "force_enable", "off", "force_isolation", "pgtbl_v1",
					   "pgtbl_v2", "irtcachedis", "nohugepages", "v2_pgsizes_only", NULL };
	static const char *const iommu[] = { "off", "force", "noforce", "biomerge", "panic", "nopanic", "merge",
					     "nomerge", "soft", "pt", "nopt", "forcesac", "allowdac", "nodac",
					     "usedac", "calgary", "allowed", NULL };
	static const char *const boolean[] = { "0", "1", "y", "n", "Y", "N", "on", "off", NULL };
	char fails[512] = "", warns[1024] = "", obs[1600], buf[4096], *save = NULL;

	if (!cmdline) {
		add_check(d, "kernel_cmdline", "kernel command line", "warn", "proc/cmdline cannot be read", NULL);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');
		const char *val = eq ? eq + 1 : "";
		char word[300];

		snprintf(word, sizeof(word), "%.200s", w);
		if (strncmp(w, "intel_iommu=", 12) == 0) {
			if (!words_valid(val, intel)) {
				snprintf(word, sizeof(word), "%.200s (not a valid value)", w);
				append(warns, sizeof(warns), word);
			} else if (strstr(val, "off") && !strstr(val, "igfx_off") && !strstr(val, "sp_off") &&
				   !strstr(val, "sm_off")) {
				append(fails, sizeof(fails), word);
			}
		} else if (strncmp(w, "amd_iommu=", 10) == 0) {
			if (!words_valid(val, amd)) {
				snprintf(word, sizeof(word), "%.200s (not a valid value)", w);
				append(warns, sizeof(warns), word);
			} else if (cmdline_has(val, "off") || strncmp(val, "off,", 4) == 0 || strstr(val, ",off")) {
				append(fails, sizeof(fails), word);
			}
		} else if (strncmp(w, "iommu=", 6) == 0) {
			if (!words_valid(val, iommu)) {
				snprintf(word, sizeof(word), "%.200s (not a valid value)", w);
				append(warns, sizeof(warns), word);
			} else if (strstr(val, "off") || strstr(val, "soft")) {
				append(fails, sizeof(fails), word);
			} else if (strstr(val, "pt") && !strstr(val, "nopt")) {
				append(warns, sizeof(warns), word);
			}
		} else if (strncmp(w, "iommu.passthrough=", 18) == 0 || strncmp(w, "iommu.strict=", 13) == 0) {
			if (!words_valid(val, boolean) || strchr(val, ',')) {
				snprintf(word, sizeof(word), "%.200s (not a valid value)", w);
				append(warns, sizeof(warns), word);
			} else if (w[6] == 'p' && strchr("1yYo", val[0]) && strcmp(val, "off") != 0) {
				append(warns, sizeof(warns), word);
			}
		} else if (strcmp(w, "intremap=off") == 0 || strcmp(w, "nointremap") == 0) {
			append(fails, sizeof(fails), word);
		} else if (strncmp(w, "iommufd.allow_unsafe_interrupts=", 32) == 0 ||
			   strncmp(w, "vfio_iommu_type1.allow_unsafe_interrupts=", 41) == 0) {
			if ((val[0] && strchr("1yY", val[0])) || strcmp(val, "on") == 0)
				append(warns, sizeof(warns), word);
		} else if (strncmp(w, "pcie_acs_override=", 18) == 0 ||
			   strcmp(w, "vfio.enable_unsafe_noiommu_mode=1") == 0) {
			append(warns, sizeof(warns), word);
		}
	}
	if (fails[0]) {
		snprintf(obs, sizeof(obs), "disables the IOMMU or interrupt remapping: %s%s%s", fails,
			 warns[0] ? "; also: " : "", warns);
		add_check(d, "kernel_cmdline", "kernel command line", "fail", obs,
			  "remove these from the boot loader's kernel command line and reboot");
	} else if (warns[0]) {
		snprintf(obs, sizeof(obs), "weakens isolation or is ignored: %s", warns);
		add_check(d, "kernel_cmdline", "kernel command line", "warn", obs,
			  "pcie_acs_override claims isolation the hardware does not give; iommu=pt and "
			  "iommu.passthrough=1 leave host devices untranslated; allow_unsafe_interrupts lets devices "
			  "inject interrupts; invalid values are ignored by the kernel: fix or remove them");
	} else {
		add_check(d, "kernel_cmdline", "kernel command line", "pass", "no IOMMU red flags", NULL);
	}
}

enum kconfig { KCONFIG_UNKNOWN, KCONFIG_YES, KCONFIG_NO };

/* What the running kernel's config (boot/config-RELEASE) says of OPTION:
 * =y or =m is yes, "is not set" or absent is no, no readable config is
 * unknown. */
static enum kconfig kernel_config(const struct doctor *d, const char *option)
{
	char rel[320], *text, *line, *save = NULL;
	size_t len = strlen(option);
	enum kconfig found = KCONFIG_NO;

	snprintf(rel, sizeof(rel), "boot/config-%s", d->release);
	text = read_text(d, rel, 1 << 20);
	if (!text)
		return KCONFIG_UNKNOWN;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, option, len) == 0 && line[len] == '=' && (line[len + 1] == 'y' || line[len + 1] == 'm'))
			found = KCONFIG_YES;
	free(text);
	return found;
}

static const char *state_word(enum availability a)
{
	return a == MOD_LOADED ? "loaded" : a == MOD_BUILTIN ? "built in" : a == MOD_LOADABLE ? "not loaded" : "absent";
}

static void check_iommufd(struct doctor *d)
{
	enum availability a = module_state(d, "iommufd", "iommufd");
	char obs[512];

	if (exists(d, "dev/iommu")) {
		char p[4096];

		if (access(path_of(d, "dev/iommu", p, sizeof(p)), R_OK | W_OK) == 0) {
			snprintf(obs, sizeof(obs), "/dev/iommu present and usable by this user (module %s)", state_word(a));
			add_check(d, "iommufd", "iommufd", "pass", obs, NULL);
		} else {
			snprintf(obs, sizeof(obs), "/dev/iommu present but not readable and writable by this user (%s)",
				 strerror(errno));
			add_check(d, "iommufd", "iommufd", "warn", obs,
				  "run as root, or give the user access to /dev/iommu (a udev rule with GROUP= and MODE=0660)");
		}
		return;
	}
	if (a == MOD_LOADABLE) {
		/* Not a failure: every command that opens /dev/iommu loads it. */
		add_check(d, "iommufd", "iommufd", "pass",
			  "no /dev/iommu yet: the iommufd module is in modules.dep and is loaded on first use "
			  "(iommuctl runs modprobe iommufd)",
			  NULL);
	} else if (a == MOD_ABSENT) {
		add_check(d, "iommufd", "iommufd", "fail", "no /dev/iommu and no iommufd module for this kernel",
			  "use a kernel built with CONFIG_IOMMUFD (Linux 6.2 or later)");
	} else {
		snprintf(obs, sizeof(obs), "iommufd %s but no /dev/iommu node", state_word(a));
		add_check(d, "iommufd", "iommufd", "fail", obs, "check devtmpfs and udev: the misc device 'iommu' has no node");
	}
}

static void check_vfio_cdev(struct doctor *d)
{
	enum availability a = module_state(d, "vfio", "vfio");

	if (exists(d, "sys/class/vfio-dev")) {
		add_check(d, "vfio_cdev", "VFIO device cdevs", "pass",
			  "sys/class/vfio-dev exists: VFIO devices get /dev/vfio/devices/vfioN", NULL);
	} else if (a == MOD_LOADED || a == MOD_BUILTIN) {
		add_check(d, "vfio_cdev", "VFIO device cdevs", "fail",
			  "vfio is loaded but sys/class/vfio-dev is missing: the kernel has no VFIO device cdevs",
			  "use a kernel built with CONFIG_VFIO_DEVICE_CDEV=y (Linux 6.6 or later)");
	} else if (a == MOD_LOADABLE) {
		/* Whether vfio has device cdevs shows only once it is loaded; the
		 * kernel's config says so beforehand, when it can be read. */
		enum kconfig c = kernel_config(d, "CONFIG_VFIO_DEVICE_CDEV");

		if (c == KCONFIG_YES)
			add_check(d, "vfio_cdev", "VFIO device cdevs", "pass",
				  "vfio is loaded on first use (iommuctl bind loads vfio-pci), and the kernel's config "
				  "has CONFIG_VFIO_DEVICE_CDEV=y",
				  NULL);
		else if (c == KCONFIG_NO)
			add_check(d, "vfio_cdev", "VFIO device cdevs", "fail",
				  "the kernel's config has no CONFIG_VFIO_DEVICE_CDEV: VFIO devices get no cdevs",
				  "use a kernel built with CONFIG_VFIO_DEVICE_CDEV=y (Linux 6.6 or later)");
		else
			add_check(d, "vfio_cdev", "VFIO device cdevs", "warn",
				  "vfio is not loaded yet (it is loaded on first use); whether this kernel has device cdevs "
				  "(CONFIG_VFIO_DEVICE_CDEV) shows once it is, and its config is not readable",
				  "iommuctl bind loads vfio-pci; run doctor again after it");
	} else {
		add_check(d, "vfio_cdev", "VFIO device cdevs", "fail", "no vfio module for this kernel",
			  "use a kernel built with CONFIG_VFIO and CONFIG_VFIO_DEVICE_CDEV=y");
	}
}

static void check_vfio_pci(struct doctor *d)
{
	enum availability a = module_state(d, "vfio_pci", "vfio-pci");

	if (exists(d, "sys/bus/pci/drivers/vfio-pci")) {
		add_check(d, "vfio_pci", "vfio-pci driver", "pass", "the vfio-pci driver is registered", NULL);
	} else if (a == MOD_LOADABLE) {
		add_check(d, "vfio_pci", "vfio-pci driver", "pass",
			  "vfio-pci is in modules.dep and is loaded on first use (iommuctl bind and probe run "
			  "modprobe vfio-pci)",
			  NULL);
	} else {
		add_check(d, "vfio_pci", "vfio-pci driver", "fail", "no vfio-pci driver for this kernel",
			  "use a kernel built with CONFIG_VFIO_PCI");
	}
}

static void check_memlock(struct doctor *d)
{
	char *limits = read_text(d, "proc/self/limits", 16384), *status = read_text(d, "proc/self/status", 16384);
	char obs[256], soft[32] = "";
	const char *line = limits ? strstr(limits, "Max locked memory") : NULL;
	const char *cap = status ? strstr(status, "CapEff:") : NULL;
	bool ipc_lock = false;

	if (cap) {
		unsigned long long bits = strtoull(cap + 7, NULL, 16);

		ipc_lock = bits & (1ULL << CAP_IPC_LOCK_BIT);
	}
	if (!line || sscanf(line + 17, "%31s", soft) != 1) {
		add_check(d, "memlock", "locked memory limit", "warn", "proc/self/limits has no 'Max locked memory'",
			  NULL);
	} else if (strcmp(soft, "unlimited") == 0) {
		add_check(d, "memlock", "locked memory limit", "pass", "RLIMIT_MEMLOCK is unlimited", NULL);
	} else {
		unsigned long long bytes = strtoull(soft, NULL, 10);

		if (ipc_lock) {
			snprintf(obs, sizeof(obs), "RLIMIT_MEMLOCK %llu MiB, but CAP_IPC_LOCK is held: pinned pages are not "
						   "counted",
				 bytes >> 20);
			add_check(d, "memlock", "locked memory limit", "pass", obs, NULL);
		} else if (bytes >= MEMLOCK_TYPICAL) {
			snprintf(obs, sizeof(obs), "RLIMIT_MEMLOCK %llu MiB", bytes >> 20);
			add_check(d, "memlock", "locked memory limit", "pass", obs, NULL);
		} else {
			snprintf(obs, sizeof(obs), "RLIMIT_MEMLOCK %llu KiB: less than the 1 GiB a small VM pins", bytes >> 10);
			add_check(d, "memlock", "locked memory limit", "warn", obs,
				  "raise it to at least the guest's memory (ulimit -l, LimitMEMLOCK= in a systemd unit, "
				  "memlock in /etc/security/limits.conf), or run with CAP_IPC_LOCK");
		}
	}
	free(limits);
	free(status);
}

static unsigned long long meminfo_value(const char *meminfo, const char *key)
{
	const char *p = meminfo ? strstr(meminfo, key) : NULL;

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void check_hugepages(struct doctor *d)
{
	char *meminfo = read_text(d, "proc/meminfo", 65536);
	char *thp = read_text(d, "sys/kernel/mm/transparent_hugepage/enabled", 256);
	char obs[512], sizes[256] = "", rel[512];
	size_t n = 0;
	char **dirs = list_dir(d, "sys/kernel/mm/hugepages", &n);
	unsigned long long reserved = 0;
	const char *thp_mode = NULL;

	for (size_t i = 0; dirs && i < n; i++) {
		char *nr;

		snprintf(rel, sizeof(rel), "sys/kernel/mm/hugepages/%.200s/nr_hugepages", dirs[i]);
		nr = read_text(d, rel, 32);
		if (nr && strtoull(nr, NULL, 10) > 0) {
			char word[256];

			snprintf(word, sizeof(word), "%s x %.200s", nr, dirs[i] + (strncmp(dirs[i], "hugepages-", 10) ? 0 : 10));
			append(sizes, sizeof(sizes), word);
			reserved += strtoull(nr, NULL, 10);
		}
		free(nr);
	}
	free_list(dirs, n);
	if (!reserved)
		reserved = meminfo_value(meminfo, "HugePages_Total:");
	if (thp)
		thp_mode = strstr(thp, "[always]") ? "always" : strstr(thp, "[madvise]") ? "madvise" : "never";
	if (reserved) {
		snprintf(obs, sizeof(obs), "%llu huge pages reserved (%s), %llu free", reserved, sizes[0] ? sizes : "hugetlb",
			 meminfo_value(meminfo, "HugePages_Free:"));
		add_check(d, "hugepages", "huge pages", "pass", obs, NULL);
	} else if (thp_mode && strcmp(thp_mode, "never") != 0) {
		snprintf(obs, sizeof(obs), "no hugetlb pages reserved; transparent huge pages: %s", thp_mode);
		add_check(d, "hugepages", "huge pages", "pass", obs, NULL);
	} else {
		snprintf(obs, sizeof(obs), "no hugetlb pages reserved%s%s", thp_mode ? "; transparent huge pages: " : "",
			 thp_mode ? thp_mode : "");
		add_check(d, "hugepages", "huge pages", "warn", obs,
			  "reserve huge pages for guest memory (hugepagesz=1G hugepages=N on the command line, or "
			  "sys/kernel/mm/hugepages/*/nr_hugepages): fewer IOMMU page-table entries and IOTLB misses");
	}
	free(meminfo);
	free(thp);
}

static void check_features(struct doctor *d, json_object *features)
{
	static const enum iommufd_feature all[] = { IOMMUFD_FEATURE_IOAS, IOMMUFD_FEATURE_HWPT_ALLOC,
						    IOMMUFD_FEATURE_HW_INFO, IOMMUFD_FEATURE_DIRTY_TRACKING,
						    IOMMUFD_FEATURE_MAP_FILE };
	char missing[256] = "", obs[512], p[4096];
	struct iommufd_ctx *ctx = NULL;
	struct stat st;
	bool cdev = exists(d, "sys/class/vfio-dev");
	json_object_object_add(features, "vfio_device_cdev", json_object_new_boolean(cdev));
	if (!cdev)
		append(missing, sizeof(missing), "vfio_device_cdev");
	path_of(d, "dev/iommu", p, sizeof(p));
	if (stat(p, &st) != 0) {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			json_object_object_add(features, iommufd_feature_name(all[i]), json_object_new_boolean(false));
			append(missing, sizeof(missing), iommufd_feature_name(all[i]));
		}
	} else if (!S_ISCHR(st.st_mode) || iommufd_ctx_open(p, &ctx) < 0) {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			json_object_object_add(features, iommufd_feature_name(all[i]), NULL);
		snprintf(obs, sizeof(obs), "kernel %s; iommufd ioctls not probed (%s)%s%s",
			 d->release[0] ? d->release : "unknown",
			 S_ISCHR(st.st_mode) ? "cannot open /dev/iommu" : "dev/iommu is not a device: a snapshot",
			 missing[0] ? "; missing: " : "", missing);
		add_check(d, "kernel_features", "iommufd features", "warn", obs,
			  S_ISCHR(st.st_mode) ? "run as root to probe the kernel" : NULL);
		return;
	} else {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			int yes = iommufd_ctx_supports(ctx, all[i]);

			json_object_object_add(features, iommufd_feature_name(all[i]),
					       yes < 0 ? NULL : json_object_new_boolean(yes));
			if (yes == 0)
				append(missing, sizeof(missing), iommufd_feature_name(all[i]));
		}
		iommufd_ctx_free(ctx);
	}
	if (missing[0]) {
		snprintf(obs, sizeof(obs), "kernel %s lacks: %s", d->release[0] ? d->release : "(unknown)", missing);
		add_check(d, "kernel_features", "iommufd features", "warn", obs,
			  "iommuctl works without them where it can; a newer kernel (6.13+) has all");
	} else {
		snprintf(obs, sizeof(obs), "kernel %s has every iommufd feature iommuctl uses",
			 d->release[0] ? d->release : "(unknown)");
		add_check(d, "kernel_features", "iommufd features", "pass", obs, NULL);
	}
}

/* ---- output ---- */

static void render_doctor(json_object *out)
{
	json_object *checks, *summary, *v;
	size_t n;

	json_object_object_get_ex(out, "checks", &checks);
	n = json_object_array_length(checks);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(checks, i), *verdict, *title, *observed, *remedy;

		json_object_object_get_ex(c, "verdict", &verdict);
		json_object_object_get_ex(c, "title", &title);
		json_object_object_get_ex(c, "observed", &observed);
		json_object_object_get_ex(c, "remedy", &remedy);
		printf("%-4s  %-22s %s\n", json_object_get_string(verdict), json_object_get_string(title),
		       json_object_get_string(observed));
		if (remedy && strcmp(json_object_get_string(verdict), "pass") != 0)
			printf("      %-22s -> %s\n", "", json_object_get_string(remedy));
	}
	json_object_object_get_ex(out, "summary", &summary);
	json_object_object_get_ex(summary, "pass", &v);
	printf("%d passed, ", json_object_get_int(v));
	json_object_object_get_ex(summary, "warn", &v);
	printf("%d warning%s, ", json_object_get_int(v), json_object_get_int(v) == 1 ? "" : "s");
	json_object_object_get_ex(summary, "fail", &v);
	printf("%d failed\n", json_object_get_int(v));
}

int cmd_doctor(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct doctor d = { 0 };
	struct iommufd_topo *topo;
	json_object *out, *summary, *features;
	int status, counts[3] = { 0 };
	char *cmdline, *release;
	int first = parse_command_options(cmd, g, argc, argv, NULL, NULL, &status);

	if (first < 0)
		return status;
	if (first != argc)
		return usage_error(cmd, "doctor: takes no arguments");
	topo = load_topology(g, 0, &status);
	if (!topo)
		return status;
	d.root = g->sysroot ? g->sysroot : "/";
	d.live = !g->sysroot || strcmp(g->sysroot, "/") == 0;
	d.checks = json_object_new_array();
	release = read_text(&d, "proc/sys/kernel/osrelease", sizeof(d.release) - 1);
	if (release)
		snprintf(d.release, sizeof(d.release), "%s", release);
	free(release);
	cmdline = read_text(&d, "proc/cmdline", 65536);
	features = json_object_new_object();

	check_hardware(&d, topo);
	check_enabled(&d, topo);
	check_domains(&d, topo);
	check_irq_remapping(&d, cmdline);
	check_cmdline(&d, cmdline);
	check_iommufd(&d);
	check_vfio_cdev(&d);
	check_vfio_pci(&d);
	check_memlock(&d);
	check_hugepages(&d);
	check_features(&d, features);
	iommufd_topo_free(topo);
	free(cmdline);

	for (size_t i = 0; i < json_object_array_length(d.checks); i++) {
		json_object *v;
		const char *verdict;

		json_object_object_get_ex(json_object_array_get_idx(d.checks, i), "verdict", &v);
		verdict = json_object_get_string(v);
		counts[strcmp(verdict, "pass") == 0 ? 0 : strcmp(verdict, "warn") == 0 ? 1 : 2]++;
	}
	out = json_object_new_object();
	json_object_object_add(out, "kernel", d.release[0] ? json_object_new_string(d.release) : NULL);
	json_object_object_add(out, "checks", d.checks);
	json_object_object_add(out, "features", features);
	summary = json_object_new_object();
	json_object_object_add(summary, "pass", json_object_new_int(counts[0]));
	json_object_object_add(summary, "warn", json_object_new_int(counts[1]));
	json_object_object_add(summary, "fail", json_object_new_int(counts[2]));
	json_object_object_add(summary, "ok", json_object_new_boolean(counts[2] == 0));
	json_object_object_add(out, "summary", summary);
	if (g->json) {
		if (emit_json(out))
			return EXIT_FAILURE_IO;
	} else {
		render_doctor(out);
		json_object_put(out);
	}
	return counts[2] ? EXIT_NO : EXIT_OK;
}
