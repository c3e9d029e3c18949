/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommuctl.h"

int cmd_snapshot(const struct command *cmd, struct global_opts *g, int argc, char **argv)
{
	struct iommufd_topo *topo;
	char *tmp = NULL;
	const char *file;
	struct stat st;
	int status, fd, err, first = parse_command_options(cmd, g, argc, argv, NULL, NULL, &status);

	if (first < 0)
		return status;
	if (argc - first != 1)
		return usage_error(cmd, "snapshot: name one output file (FILE.tar, or - for standard output)");
	file = argv[first];
	if (!*file)
		return usage_error(cmd, "snapshot: empty file name");
	topo = load_topology(g, IOMMUFD_TOPO_HOLDERS | IOMMUFD_TOPO_CAPS | IOMMUFD_TOPO_RECORD, &status);
	if (!topo)
		return status;
	if (strcmp(file, "-") == 0) {
		fflush(stdout);
		err = iommufd_topo_snapshot(topo, STDOUT_FILENO);
		iommufd_topo_free(topo);
		return err ? fail(EXIT_FAILURE_IO, "standard output: %s", strerror(-err)) : EXIT_OK;
	}
	/* Write beside the target and rename, so a failure never leaves half an archive. */
	if (asprintf(&tmp, "%s.tmp.%d", file, (int)getpid()) < 0) {
		iommufd_topo_free(topo);
		return fail(EXIT_FAILURE_IO, "out of memory");
	}
	/* Run by root, it holds config space past 64 bytes, which only root may read: 0600. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, geteuid() == 0 ? 0600 : 0644);
	if (fd < 0) {
		err = errno;
		status = fail(err == EACCES || err == EPERM ? EXIT_PERMISSION : EXIT_FAILURE_IO, "%s: cannot create: %s",
			      file, strerror(err));
		goto out;
	}
	err = iommufd_topo_snapshot(topo, fd);
	if (!err && fsync(fd) != 0 && errno != EINVAL)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, file) != 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		status = fail(EXIT_FAILURE_IO, "%s: %s", file, strerror(-err));
		goto out;
	}
	if (stat(file, &st) != 0)
		st.st_size = 0;
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(file));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.st_size));
		json_object_object_add(o, "device_count", json_object_new_int((int)iommufd_topo_dev_count(topo)));
		json_object_object_add(o, "group_count", json_object_new_int((int)iommufd_topo_group_count(topo)));
		status = emit_json(o) ? EXIT_FAILURE_IO : EXIT_OK;
	} else {
		printf("wrote %s: %zu devices in %zu groups, %lld bytes\n", file, iommufd_topo_dev_count(topo),
		       iommufd_topo_group_count(topo), (long long)st.st_size);
	}
out:
	free(tmp);
	iommufd_topo_free(topo);
	return status;
}
