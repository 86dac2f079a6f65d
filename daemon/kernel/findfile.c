/* findfile.c: a file on a device's mounted filesystems, looked for by its
 * name and taken only if its extents are exactly the ranges asked for. */
#define _GNU_SOURCE
#include "kernel/findfile.h"
#include "kernel/fiemap.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static bool same(const struct extent_list *a, const struct extent_list *b)
{
	return a->n == b->n &&
	       (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

/* Whether the file at PATH has exactly the extents WANT. */
static bool extents_are(const char *path, const struct extent_list *want)
{
	struct extent_list e;
	bool yes = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return false;
	if (fiemap_read(fd, false, &e) == 0) {
		yes = same(&e, want);
		extent_list_free(&e);
	}
	close(fd);
	return yes;
}

/* Search the filesystem mounted at POINT (this filesystem only, no
 * symbolic links followed). */
static char *search(char *point, dev_t dev, const char *name,
		    const struct extent_list *want)
{
	char *const roots[] = { point, NULL };
	FTS *t = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	char *found = NULL;
	FTSENT *e;

	for (size_t seen = 0; t && !found && (e = fts_read(t)); seen++) {
		if (seen >= FINDFILE_MAX_ENTRIES)
			break; /* gives up */
		if (e->fts_info == FTS_F && e->fts_statp->st_dev == dev &&
		    !strcmp(e->fts_name, name) && extents_are(e->fts_path, want))
			found = strdup(e->fts_path);
	}
	if (t)
		fts_close(t);
	return found;
}

char *findfile(dev_t dev, const char *name, const struct extent_list *want)
{
	char *line = NULL, *found = NULL;
	size_t len = 0;
	FILE *f;

	if (!name[0] || strchr(name, '/') ||
	    !(f = fopen("/proc/self/mountinfo", "re")))
		return NULL;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": each mount of DEV */
	while (!found && getline(&line, &len, f) > 0) {
		unsigned maj, min;
		char point[4096];
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min,
			   point) == 3 && makedev(maj, min) == dev)
			found = search(point, dev, name, want);
	}
	free(line);
	fclose(f);
	return found;
}
