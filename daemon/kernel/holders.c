/* holders.c: whether any other process holds a file open, by a scan of
 * /proc/PID/fd (used only for unlinked follow-inode files, on close). */
#include "kernel/holders.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool pid_holds(int procfd, const char *pid, dev_t dev, ino_t ino)
{
	char path[300];
	struct dirent *e;
	bool found = false;
	int dfd;
	DIR *d;

	snprintf(path, sizeof(path), "%s/fd", pid);
	dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false; /* gone, or not ours to read */
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return false;
	}
	while (!found && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		/* stat follows the magic link, even to an unlinked file */
		if (fstatat(dfd, e->d_name, &st, 0) == 0 && st.st_dev == dev &&
		    st.st_ino == ino)
			found = true;
	}
	closedir(d);
	return found;
}

int holders_other(dev_t dev, ino_t ino, pid_t ignore)
{
	char self[24], other[24];
	struct dirent *e;
	int procfd, r = 0;
	DIR *d;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", ignore > 0 ? (int)ignore : -1);
	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	if (!(d = fdopendir(procfd))) {
		r = -errno;
		close(procfd);
		return r;
	}
	while (!r && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (!strcmp(e->d_name, self) || !strcmp(e->d_name, other))
			continue;
		if (pid_holds(procfd, e->d_name, dev, ino))
			r = 1;
	}
	closedir(d);
	return r;
}
