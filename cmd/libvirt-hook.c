/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt-hook: what libvirt's qemu hook runs, without ever calling libvirt.
 *
 * libvirt runs every executable in /etc/libvirt/hooks/qemu.d/ as
 * "HOOK DOMAIN OPERATION SUB-OPERATION EXTRA" with the domain XML on stdin,
 * and a hook must not call back into libvirt (virsh would deadlock on the
 * domain's job lock).  So the hook reads the <hostdev>s from the XML and
 * looks at sysfs itself:
 *
 *   prepare begin   every PCI hostdev's group must be viable once the
 *                   hostdevs are on vfio-pci (bind's dry run: the same
 *                   what-if and in-use checks), and a managed='no' hostdev
 *                   must already be on a VFIO driver, else the start fails
 *                   with the reason.  With the policy "bind" the hook binds
 *                   the managed='yes' hostdevs itself, with "bind-group" the
 *                   siblings in their groups too, all journaled with the
 *                   owner "libvirt:DOMAIN".  It never binds a managed='no'
 *                   hostdev (check_unmanaged() says why).
 *   release end     every device journaled for "libvirt:DOMAIN" goes back.
 *   anything else   nothing, exit 0 (libvirt adds operations over time).
 *
 * libvirt's own record (its lists of active and detached devices) is thus
 * never contradicted: a managed='yes' device the hook bound is one libvirt
 * finds on vfio-pci, so it does not rebind it and forgets it at release;
 * siblings are not libvirt's at all.
 *
 * The policy comes from, in this order: --policy; the domain's metadata
 * <iommuctl:hook xmlns:iommuctl="urn:iommuctl:libvirt-hook:1" policy="..."/>;
 * "policy = ..." in the configuration file (/etc/iommuctl/libvirt-hook.conf,
 * under --sysroot when given, or IOMMUCTL_HOOK_CONFIG); else "check".
 *
 * stdout stays empty unless -j is given: libvirt reads a hook's stdout as
 * a replacement XML for some operations.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "iommuctl.h"
#include "iommufd/bind.h"

#define HOOK_NS "urn:iommuctl:libvirt-hook:1"
#define LIBXML2_SONAME "libxml2.so.2"
#define MAX_XML (16 << 20)
#define MAX_HOSTDEVS 128

/*
 * libxml2 is opened when the hook runs, not linked: it brings ICU and
 * libstdc++ along, whose loading every other command would pay at exec
 * (0.9 ms natively, tens under emulation) for a parser only the hook uses.
 * The pointers keep the headers' own prototypes.
 */
static struct {
	__typeof__(&xmlReadMemory) ReadMemory;
	__typeof__(&xmlGetLastError) GetLastError;
	__typeof__(&xmlXPathNewContext) XPathNewContext;
	__typeof__(&xmlXPathRegisterNs) XPathRegisterNs;
	__typeof__(&xmlDocGetRootElement) DocGetRootElement;
	__typeof__(&xmlXPathEvalExpression) XPathEvalExpression;
	__typeof__(&xmlXPathFreeObject) XPathFreeObject;
	__typeof__(&xmlXPathFreeContext) XPathFreeContext;
	__typeof__(&xmlFreeDoc) FreeDoc;
	__typeof__(&xmlGetProp) GetProp;
	__typeof__(&xmlNodeGetContent) NodeGetContent;
	xmlFreeFunc *Free; /* a variable of libxml2's, the deallocator it was built with */
} lx;

/* 0, or -1 with @why saying what is missing. */
static int libxml2_open(const char **why)
{
	void *h = dlopen(LIBXML2_SONAME, RTLD_NOW | RTLD_LOCAL);
	bool ok = h != NULL;

#define LOAD(field, symbol)                                   \
	do {                                                  \
		void *sym_ = ok ? dlsym(h, symbol) : NULL;    \
		ok = ok && sym_;                              \
		memcpy(&lx.field, &sym_, sizeof(sym_));       \
	} while (0)
	LOAD(ReadMemory, "xmlReadMemory");
	LOAD(GetLastError, "xmlGetLastError");
	LOAD(XPathNewContext, "xmlXPathNewContext");
	LOAD(XPathRegisterNs, "xmlXPathRegisterNs");
	LOAD(DocGetRootElement, "xmlDocGetRootElement");
	LOAD(XPathEvalExpression, "xmlXPathEvalExpression");
	LOAD(XPathFreeObject, "xmlXPathFreeObject");
	LOAD(XPathFreeContext, "xmlXPathFreeContext");
	LOAD(FreeDoc, "xmlFreeDoc");
	LOAD(GetProp, "xmlGetProp");
	LOAD(NodeGetContent, "xmlNodeGetContent");
	LOAD(Free, "xmlFree");
#undef LOAD
	*why = h ? "a symbol is missing" : dlerror();
	return ok ? 0 : -1;
}

struct hook_opts {
	const char *policy;
	const char *config;
};

static int on_hook_option(const char *name, const char *arg, void *data)
{
	struct hook_opts *o = data;

	if (strcmp(name, "policy") == 0)
		o->policy = arg;
	else if (strcmp(name, "config") == 0)
		o->config = arg;
	return EXIT_OK;
}

static bool policy_valid(const char *p)
{
	return strcmp(p, "check") == 0 || strcmp(p, "bind") == 0 || strcmp(p, "bind-group") == 0;
}

struct hostdev {
	char address[IOMMUFD_PCI_ADDRESS_SIZE];
	bool managed;
};

/* The whole of stdin; NULL (with *err) when it cannot be read or is too big. */
static char *read_stdin(size_t *len, int *err)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	*err = 0;
	while (buf) {
		size_t got;

		if (n == cap) {
			char *grown = cap >= MAX_XML ? NULL : realloc(buf, cap * 2);

			if (!grown) {
				*err = cap >= MAX_XML ? -EFBIG : -ENOMEM;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, stdin);
		n += got;
		if (got == 0) {
			if (ferror(stdin)) {
				*err = -EIO;
				break;
			}
			*len = n;
			return buf;
		}
	}
	free(buf);
	if (!*err)
		*err = -ENOMEM;
	return NULL;
}

static bool attr_number(xmlNode *node, const char *name, unsigned long max, unsigned long *value)
{
	xmlChar *text = lx.GetProp(node, (const xmlChar *)name);
	char *end;
	bool ok;

	if (!text)
		return false;
	errno = 0;
	*value = strtoul((const char *)text, &end, 0);
	ok = errno == 0 && end != (char *)text && *end == '\0' && *value <= max && text[0] != '-';
	(*lx.Free)(text);
	return ok;
}

/*
 * <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/> as
 * "0000:01:00.0".  A domain is up to 0xffffffff (Intel VMD's are 0x10000 and
 * up); one that is present but not a number in range is refused, never read
 * as domain 0, which would name another device.
 */
static int hostdev_address(const struct command *cmd, xmlNode *addr, char out[IOMMUFD_PCI_ADDRESS_SIZE])
{
	unsigned long dom, bus, slot, fn;
	xmlChar *d = lx.GetProp(addr, (const xmlChar *)"domain");

	if (!d) {
		dom = 0; /* libvirt omits domain 0 in hand-written XML */
	} else if (!attr_number(addr, "domain", 0xffffffffUL, &dom)) {
		int status = usage_error(cmd, "hostdev <address domain='%s'/>: not a PCI domain (0 to 0xffffffff)",
					 (const char *)d);

		(*lx.Free)(d);
		return status;
	}
	(*lx.Free)(d);
	if (!attr_number(addr, "bus", 0xff, &bus) || !attr_number(addr, "slot", 0x1f, &slot) ||
	    !attr_number(addr, "function", 7, &fn)) {
		xmlChar *b = lx.GetProp(addr, (const xmlChar *)"bus"), *s = lx.GetProp(addr, (const xmlChar *)"slot"),
			*f = lx.GetProp(addr, (const xmlChar *)"function");
		int status = usage_error(cmd, "hostdev <address bus='%s' slot='%s' function='%s'/>: not a PCI address",
					 b ? (const char *)b : "", s ? (const char *)s : "", f ? (const char *)f : "");

		(*lx.Free)(b);
		(*lx.Free)(s);
		(*lx.Free)(f);
		return status;
	}
	snprintf(out, IOMMUFD_PCI_ADDRESS_SIZE, "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn);
	return EXIT_OK;
}

static bool managed_yes(xmlNode *node)
{
	xmlChar *m = lx.GetProp(node, (const xmlChar *)"managed");
	bool yes = m && strcmp((const char *)m, "yes") == 0;

	(*lx.Free)(m);
	return yes;
}

/*
 * Every PCI device the domain is given: <hostdev mode='subsystem' type='pci'>
 * and <interface type='hostdev'> (an SR-IOV VF as a NIC), each with its
 * <source><address .../></source>.
 */
static int collect_hostdevs(const struct command *cmd, xmlXPathContext *ctx, struct hostdev *devs, size_t *n)
{
	static const char *const queries[] = {
		"/domain/devices/hostdev[@mode='subsystem' and @type='pci']",
		"/domain/devices/interface[@type='hostdev']",
	};

	*n = 0;
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		xmlXPathObject *res = lx.XPathEvalExpression((const xmlChar *)queries[q], ctx);
		int status = EXIT_OK;

		for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr && status == EXIT_OK; i++) {
			xmlNode *node = res->nodesetval->nodeTab[i], *addr = NULL;
			xmlXPathObject *a;

			ctx->node = node;
			a = lx.XPathEvalExpression((const xmlChar *)"source/address", ctx);
			if (a && a->nodesetval && a->nodesetval->nodeNr > 0)
				addr = a->nodesetval->nodeTab[0];
			if (!addr)
				status = usage_error(cmd, "a PCI <%s> without <source><address .../></source>",
						     (const char *)node->name);
			else if (*n == MAX_HOSTDEVS)
				status = usage_error(cmd, "more than %d PCI hostdevs", MAX_HOSTDEVS);
			else if ((status = hostdev_address(cmd, addr, devs[*n].address)) == EXIT_OK)
				devs[(*n)++].managed = managed_yes(node);
			lx.XPathFreeObject(a);
		}
		ctx->node = NULL;
		lx.XPathFreeObject(res);
		if (status)
			return status;
	}
	return EXIT_OK;
}

/* The domain's own policy, from its <metadata>; NULL when it has none. */
static char *metadata_policy(xmlXPathContext *ctx)
{
	xmlXPathObject *res = lx.XPathEvalExpression((const xmlChar *)"/domain/metadata/iommuctl:hook/@policy", ctx);
	char *policy = NULL;

	if (res && res->nodesetval && res->nodesetval->nodeNr > 0) {
		xmlChar *text = lx.NodeGetContent(res->nodesetval->nodeTab[0]);

		policy = text ? strdup((const char *)text) : NULL;
		(*lx.Free)(text);
	}
	lx.XPathFreeObject(res);
	return policy;
}

/*
 * "policy = check|bind|bind-group" from the configuration file; blank lines
 * and '#' comments allowed.  A missing file is no policy; a file that says
 * something else is an error, so that a typo does not silently weaken it.
 */
static int config_policy(const char *path, bool explicit, char policy[16])
{
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int status = EXIT_OK;
	FILE *f = fopen(path, "re");

	policy[0] = '\0';
	if (!f) {
		if (errno == ENOENT && !explicit)
			return EXIT_OK;
		return fail(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAILURE_IO, "%s: %s", path, strerror(errno));
	}
	/* Whole lines, however long (a long comment), so that line numbers stay true. */
	while (status == EXIT_OK && getline(&line, &cap, f) >= 0) {
		char key[32], value[32], extra[2];
		char *hash = strchr(line, '#');
		int got;

		lineno++;
		if (hash)
			*hash = '\0';
		for (char *eq = strchr(line, '='); eq; eq = NULL)
			*eq = ' ';
		got = sscanf(line, "%31s %31s %1s", key, value, extra);
		if (got <= 0)
			continue;
		if (got != 2 || strcmp(key, "policy") != 0)
			status = fail(EXIT_USAGE, "%s:%u: expected 'policy = check|bind|bind-group'", path, lineno);
		else if (!policy_valid(value))
			status = fail(EXIT_USAGE, "%s:%u: unknown policy '%s' (check, bind or bind-group)", path, lineno,
				      value);
		else
			snprintf(policy, 16, "%.15s", value);
	}
	free(line);
	fclose(f);
	return status;
}

/*
 * At prepare, under every policy: a managed='no' hostdev must already be on
 * a VFIO driver.  libvirt binds none, and the hook binds none either: libvirt
 * keeps every managed='no' device it started a domain with in its list of
 * detached devices until "virsh nodedev-reattach" (or a restart of the
 * daemon), and a later managed='yes' domain of that device takes over the
 * record and is not given back.  A device the hook bound would therefore
 * have to stay bound after the domain, or be given back behind libvirt's
 * back; so detaching it is the operator's, through libvirt.
 */
static int check_unmanaged(struct iommufd_topo *topo, const char *domain, const struct hostdev *devs, size_t n)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		const struct iommufd_pci_dev *d = iommufd_topo_find_dev(topo, devs[i].address);
		const char *drv = d ? iommufd_dev_driver(d) : NULL;
		char nodedev[32];

		if (devs[i].managed || (d && iommufd_dev_driver_is_vfio(d)))
			continue;
		/* libvirt's node device name: pci_0000_01_00_0 */
		snprintf(nodedev, sizeof(nodedev), "pci_%.15s", devs[i].address);
		for (char *c = nodedev; *c; c++)
			if (*c == ':' || *c == '.')
				*c = '_';
		status = fail(EXIT_UNSAFE,
			      "libvirt-hook: %s: hostdev %s is on %s and managed='no', so libvirt will not bind it, and "
			      "the hook does not bind managed='no' devices; detach it through libvirt first (virsh "
			      "nodedev-detach %s), or make it managed='yes'",
			      domain, devs[i].address, drv ? drv : "no driver", nodedev);
	}
	return status;
}

/* One stderr line per device the hook changed: libvirt keeps a hook's output in its log. */
static void tell(const char *domain, json_object *res, const char *result, const char *verb, const char *to)
{
	json_object *devs;

	if (!res || !json_object_object_get_ex(res, "devices", &devs))
		return;
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *row = json_object_array_get_idx(devs, i);
		const char *r = json_object_get_string(json_object_object_get(row, "result"));
		const char *drv = json_object_get_string(json_object_object_get(row, "driver"));

		if (r && strcmp(r, result) == 0)
			fprintf(stderr, "iommuctl: libvirt-hook: %s: %s %s %s %s\n", domain, verb,
				json_object_get_string(json_object_object_get(row, "address")), to, drv ? drv : "no driver");
	}
}

static int prepare(const struct command *cmd, struct global_opts *g, const char *domain, const char *policy,
		   const struct hostdev *devs, size_t n, json_object *out)
{
	struct bind_request req = { .driver = "vfio-pci", .dry_run = true, .from_hook = true };
	char owner[64], *names[MAX_HOSTDEVS];
	struct iommufd_topo *topo;
	json_object *res = NULL;
	int status;

	if (n == 0) /* a domain without PCI devices is none of our business, whatever this host is */
		return EXIT_OK;
	topo = load_topology(g, 0, &status);
	if (!topo)
		return status;
	if (!iommufd_topo_iommu_enabled(topo)) {
		iommufd_topo_free(topo);
		fprintf(stderr, "iommuctl: libvirt-hook: %s: PCI hostdevs need an IOMMU\n", domain);
		return no_iommu();
	}
	for (size_t i = 0; i < n && status == EXIT_OK; i++)
		if (!iommufd_topo_find_dev(topo, devs[i].address))
			status = fail(EXIT_NOT_FOUND, "libvirt-hook: %s: hostdev %s: no such PCI device on this host",
				      domain, devs[i].address);
	if (status == EXIT_OK && (status = check_unmanaged(topo, domain, devs, n)) != EXIT_OK)
		fprintf(stderr, "iommuctl: libvirt-hook: %s: the domain must not start (policy %s)\n", domain, policy);
	iommufd_topo_free(topo);
	if (status)
		return status;

	for (size_t i = 0; i < n; i++)
		names[i] = (char *)devs[i].address;
	snprintf(owner, sizeof(owner), "libvirt:%s", domain);
	req.owner = owner;
	if (strcmp(policy, "check") != 0) {
		req.dry_run = false;
		req.group = strcmp(policy, "bind-group") == 0;
	}
	status = bind_devices(cmd, g, &req, names, (int)n, &res);
	if (!g->json)
		tell(domain, res, "bound", "bound", "to");
	if (res)
		json_object_object_add(out, "bind", res);
	if (status != EXIT_OK)
		fprintf(stderr, "iommuctl: libvirt-hook: %s: the domain must not start (policy %s)\n", domain, policy);
	return status;
}

int cmd_libvirt_hook(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct hook_opts o = { NULL, NULL };
	struct hostdev devs[MAX_HOSTDEVS];
	char config_path[PATH_MAX], conf[16], *meta = NULL, *xml;
	const char *domain, *op, *sub, *policy, *policy_from, *env_config, *why;
	xmlXPathContext *ctx = NULL;
	xmlDoc *doc = NULL;
	json_object *out;
	size_t n = 0, len;
	int err, status, first = parse_command_options(cmd, g, argc, argv, on_hook_option, &o, &status);

	if (first < 0)
		return status;
	if (argc - first < 3 || argc - first > 4)
		return usage_error(cmd, "libvirt-hook: expected DOMAIN OPERATION SUB-OPERATION [EXTRA], as libvirt "
					"passes them");
	domain = argv[first];
	op = argv[first + 1];
	sub = argv[first + 2];
	if (!*domain || strlen(domain) > 50 || strchr(domain, '\n'))
		return usage_error(cmd, "libvirt-hook: '%s': not a domain name (1 to 50 bytes, one line)", domain);
	if (o.policy && !policy_valid(o.policy))
		return usage_error(cmd, "--policy %s: expected check, bind or bind-group", o.policy);

	if (libxml2_open(&why) != 0)
		return fail(EXIT_UNSUPPORTED, "libvirt-hook: cannot load %s to read the domain XML: %s (install libxml2)",
			    LIBXML2_SONAME, why);
	xml = read_stdin(&len, &err);
	if (!xml)
		return fail(EXIT_FAILURE_IO, "libvirt-hook: cannot read the domain XML on stdin: %s", strerror(-err));
	if (len > 0) {
		doc = lx.ReadMemory(xml, (int)len, "domain.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		if (!doc) {
			const xmlError *e = lx.GetLastError();
			char reason[256];

			snprintf(reason, sizeof(reason), "%s", e && e->message ? e->message : "parse error");
			reason[strcspn(reason, "\n")] = '\0';
			free(xml);
			return usage_error(cmd, "libvirt-hook: the domain XML on stdin is not well-formed: line %d: %s",
					   e ? e->line : 0, reason);
		}
		ctx = lx.XPathNewContext(doc);
		if (!ctx || lx.XPathRegisterNs(ctx, (const xmlChar *)"iommuctl", (const xmlChar *)HOOK_NS) != 0) {
			status = fail(EXIT_FAILURE_IO, "libvirt-hook: out of memory");
			goto out;
		}
	}
	free(xml);
	xml = NULL;
	/* libvirt always sends the XML; an empty stdin only matters where the XML is needed. */
	if (!doc && strcmp(op, "prepare") == 0 && strcmp(sub, "begin") == 0) {
		status = usage_error(cmd, "libvirt-hook: prepare needs the domain XML on stdin");
		goto out;
	}
	if (doc) {
		xmlNode *root = lx.DocGetRootElement(doc);

		if (!root || strcmp((const char *)root->name, "domain") != 0) {
			status = usage_error(cmd, "libvirt-hook: stdin holds <%s>, not a libvirt <domain>",
					     root ? (const char *)root->name : "");
			goto out;
		}
		status = collect_hostdevs(cmd, ctx, devs, &n);
		if (status)
			goto out;
		meta = metadata_policy(ctx);
	}

	env_config = getenv("IOMMUCTL_HOOK_CONFIG");
	if (o.config)
		snprintf(config_path, sizeof(config_path), "%s", o.config);
	else if (env_config && *env_config)
		snprintf(config_path, sizeof(config_path), "%s", env_config);
	else
		snprintf(config_path, sizeof(config_path), "%s/etc/iommuctl/libvirt-hook.conf",
			 g->sysroot && strcmp(g->sysroot, "/") != 0 ? g->sysroot : "");
	status = config_policy(config_path, o.config != NULL, conf);
	if (status)
		goto out;
	if (meta && !policy_valid(meta)) {
		status = usage_error(cmd, "libvirt-hook: %s: <iommuctl:hook policy='%s'/> in its metadata: expected check, "
					  "bind or bind-group",
				     domain, meta);
		goto out;
	}
	policy = o.policy ? o.policy : meta ? meta : conf[0] ? conf : "check";
	policy_from = o.policy ? "option" : meta ? "metadata" : conf[0] ? "config" : "default";

	out = json_object_new_object();
	json_object_object_add(out, "domain", json_object_new_string(domain));
	json_object_object_add(out, "operation", json_object_new_string(op));
	json_object_object_add(out, "sub_operation", json_object_new_string(sub));
	json_object_object_add(out, "policy", json_object_new_string(policy));
	json_object_object_add(out, "policy_from", json_object_new_string(policy_from));
	{
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *h = json_object_new_object();

			json_object_object_add(h, "address", json_object_new_string(devs[i].address));
			json_object_object_add(h, "managed", json_object_new_boolean(devs[i].managed));
			json_object_array_add(arr, h);
		}
		json_object_object_add(out, "hostdevs", arr);
	}

	if (strcmp(op, "prepare") == 0 && strcmp(sub, "begin") == 0) {
		json_object_object_add(out, "action", json_object_new_string(strcmp(policy, "check") ? "bind" : "check"));
		status = prepare(cmd, g, domain, policy, devs, n, out);
	} else if (strcmp(op, "release") == 0 && strcmp(sub, "end") == 0) {
		char owner[64];
		json_object *res = NULL;

		json_object_object_add(out, "action", json_object_new_string("restore"));
		snprintf(owner, sizeof(owner), "libvirt:%s", domain);
		status = restore_owned(g, owner, &res);
		if (!g->json)
			tell(domain, res, "restored", "gave", "back to");
		if (res)
			json_object_object_add(out, "restore", res);
	} else {
		json_object_object_add(out, "action", json_object_new_string("none"));
		status = EXIT_OK;
	}
	json_object_object_add(out, "exit_status", json_object_new_int(status));
	if (g->json) {
		if (emit_json(out) && status == EXIT_OK)
			status = EXIT_FAILURE_IO;
	} else {
		json_object_put(out);
	}
out:
	free(xml);
	free(meta);
	lx.XPathFreeContext(ctx);
	lx.FreeDoc(doc);
	return status;
}
