/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binder's journal on a directory of its own: what an owner may be, and
 * that an owner survives the round trip through an entry file (the libvirt
 * hook finds its devices by it).  Binding itself needs a kernel: tests/vm.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommufd/bind.h"
#include "tap.h"

static void write_entry(const char *dir, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices/0000:00:03.0", dir);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(void)
{
	char dir[] = "/tmp/iommuctl-journal.XXXXXX", path[PATH_MAX], long_owner[80];
	struct iommufd_journal_entry e, *list = NULL;
	struct iommufd_binder *b;
	size_t n = 99;

	if (!mkdtemp(dir) || iommufd_binder_new(NULL, dir, &b) != 0)
		return 1;
	memset(long_owner, 'x', 63);
	long_owner[63] = '\0';
	CHECK(iommufd_binder_set_owner(b, "libvirt:vm1") == 0, "an owner is taken");
	CHECK(iommufd_binder_set_owner(b, long_owner) == 0, "63 bytes are taken");
	long_owner[63] = 'x';
	long_owner[64] = '\0';
	CHECK(iommufd_binder_set_owner(b, long_owner) == -EINVAL, "64 bytes are refused");
	CHECK(iommufd_binder_set_owner(b, "a\nowner=b") == -EINVAL, "a newline is refused (it would forge a key)");
	CHECK(iommufd_binder_set_owner(b, NULL) == 0, "NULL clears it");

	CHECK(iommufd_binder_journal_list(b, &list, &n) == 0 && n == 0 && !list, "an absent journal is empty");

	snprintf(path, sizeof(path), "%s/devices", dir);
	CHECK(mkdir(path, 0700) == 0, "devices/ made");
	write_entry(dir, "address=0000:00:03.0\noriginal_driver=e1000e\noriginal_driver_override=\n"
			 "driver=vfio-pci\ntime=1\npid=2\ngroup=3\nowner=libvirt:vm1\n");
	CHECK(iommufd_binder_journal(b, "0000:00:03.0", &e) == 0 && strcmp(e.owner, "libvirt:vm1") == 0 &&
		      strcmp(e.original_driver, "e1000e") == 0 && e.group == 3,
	      "an entry's owner is read back");
	write_entry(dir, "address=0000:00:03.0\noriginal_driver=\noriginal_driver_override=\ndriver=vfio-pci\n"
			 "time=1\npid=2\ngroup=3\n");
	CHECK(iommufd_binder_journal(b, "0000:00:03.0", &e) == 0 && e.owner[0] == '\0',
	      "an entry from before owners has none");
	CHECK(iommufd_binder_journal_list(b, &list, &n) == 0 && n == 1 && strcmp(list[0].address, "0000:00:03.0") == 0,
	      "the list has the entry");
	free(list);

	{
		static const char *const bad[] = { "0000:00:04.0", "README", "fifo", "link", "other" };
		char p2[PATH_MAX + 32];
		size_t skipped = 0;
		FILE *f;

		snprintf(p2, sizeof(p2), "%s/devices/0000:00:04.0", dir);
		fclose(fopen(p2, "w")); /* empty */
		snprintf(p2, sizeof(p2), "%s/devices/README", dir);
		f = fopen(p2, "w");
		fputs("notes\n", f);
		fclose(f);
		snprintf(p2, sizeof(p2), "%s/devices/fifo", dir);
		CHECK(mkfifo(p2, 0600) == 0, "a FIFO made in the journal");
		snprintf(p2, sizeof(p2), "%s/devices/link", dir);
		CHECK(symlink("0000:00:03.0", p2) == 0, "a link made in the journal");
		snprintf(p2, sizeof(p2), "%s/devices/other", dir);
		f = fopen(p2, "w");
		fputs("address=0000:00:03.0\ndriver=vfio-pci\n", f); /* names another address */
		fclose(f);
		CHECK(iommufd_binder_journal(b, "fifo", &e) == -EIO, "a FIFO is not read (nor waited on)");
		CHECK(iommufd_binder_journal(b, "link", &e) == -EIO, "a link is not followed");
		CHECK(iommufd_binder_journal(b, "other", &e) == -EIO, "an entry naming another address is refused");
		CHECK(iommufd_binder_journal_list(b, &list, &n) == 0 && n == 1 &&
			      strcmp(list[0].address, "0000:00:03.0") == 0,
		      "the list keeps the good entry and skips the rest");
		free(list);
		while (iommufd_binder_journal_skipped(b, skipped))
			skipped++;
		CHECK(skipped == 5, "every bad file is named (%zu)", skipped);
		for (size_t i = 0; i < 5; i++) {
			snprintf(p2, sizeof(p2), "%s/devices/%s", dir, bad[i]);
			unlink(p2);
		}
	}

	unlink(strcat(path, "/0000:00:03.0"));
	snprintf(path, sizeof(path), "%s/devices", dir);
	rmdir(path);
	rmdir(dir);
	iommufd_binder_free(b);
	TAP_DONE();
}
