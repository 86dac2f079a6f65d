/* detach.c: leaving the caller's session behind a readiness pipe, shared
 * by the supervisor and the shim's one-file fallback. */
#define _GNU_SOURCE
#include "front/detach.h"
#include "dmfilemap.h"
#include "log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int detach(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		exit(read(p[0], &c, 1) == 1 ? DMF_EXIT_OK : DMF_EXIT_FAIL);
	}
	close(p[0]);
	if (setsid() < 0)
		fatal("setsid");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		fatal("chdir /");
	return p[1];
}

void detach_ready(int fd, bool foreground)
{
	int null;

	if (fd < 0)
		return;
	if (!foreground) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			fatal("cannot redirect stdio to /dev/null");
		close(null);
	}
	if (write(fd, "R", 1) != 1)
		fatal("cannot signal readiness");
	close(fd);
}
