/* dmstats.c: the dm-stats messages and DM_DEVICE_INFO, sent with
 * libdevmapper: the daemon's struct dm_backend (with kernel/fiemap.c). */
#define _GNU_SOURCE
#include "kernel/dmstats.h"
#include "core/auxdata.h"
#include "kernel/fiemap.h"
#include "kernel/killpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void dmstats_release(struct dmstats *s)
{
	if (s->last)
		dm_task_destroy(s->last);
	s->last = NULL;
}

/* Send one target message to DEV; the task (kept in S until the next
 * operation) or NULL with *ERR set. */
static struct dm_task *message(struct dmstats *s, dev_t dev, const char *msg,
			       int *err)
{
	struct dm_task *dmt;

	dmstats_release(s);
	*err = -ENOMEM;
	if (!(dmt = dm_task_create(DM_DEVICE_TARGET_MSG)))
		return NULL;
	if (!dm_task_set_major(dmt, (int)major(dev)) ||
	    !dm_task_set_minor(dmt, (int)minor(dev)) ||
	    !dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg) ||
	    !dm_task_no_open_count(dmt))
		goto bad;
	if (!dm_task_run(dmt)) {
		int e = dm_task_get_errno(dmt);
		*err = e ? -e : -EIO;
		goto bad;
	}
	*err = 0;
	s->last = dmt;
	return dmt;
bad:
	dm_task_destroy(dmt);
	return NULL;
}

static int identify(void *ctx, dev_t dev, char *name, size_t namelen,
		    char *why, size_t whylen)
{
	struct dm_task *dmt;
	struct dm_info info;
	int r = -EIO;

	dmstats_release(ctx);
	if (!dm_is_dm_major(major(dev))) {
		snprintf(why, whylen, "not on a device-mapper device");
		return -ENODEV;
	}
	if (!(dmt = dm_task_create(DM_DEVICE_INFO))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (!dm_task_set_major(dmt, (int)major(dev)) ||
	    !dm_task_set_minor(dmt, (int)minor(dev)) ||
	    !dm_task_no_open_count(dmt) || !dm_task_run(dmt) ||
	    !dm_task_get_info(dmt, &info)) {
		snprintf(why, whylen, "device %u:%u: device-mapper info failed",
			 major(dev), minor(dev));
		goto out;
	}
	if (!info.exists) {
		snprintf(why, whylen, "device %u:%u no longer exists",
			 major(dev), minor(dev));
		r = -ENXIO;
		goto out;
	}
	snprintf(name, namelen, "%s", dm_task_get_name(dmt));
	r = 0;
out:
	dm_task_destroy(dmt);
	return r;
}

static int list(void *ctx, dev_t dev, const char **text)
{
	struct dm_task *dmt;
	int err;

	if (!(dmt = message(ctx, dev, "@stats_list", &err)))
		return err;
	*text = dm_task_get_message_response(dmt);
	return 0;
}

static int create(void *ctx, dev_t dev, uint64_t start, uint64_t len,
		  const struct region_args *a, uint64_t *id)
{
	char *prog = aux_escape_arg(a->program_id ? a->program_id : "");
	char *aux = aux_escape_arg(a->aux_data ? a->aux_data : "");
	char *msg = NULL, opts[AUX_TEXT_MAX + 64] = "", *end;
	int nopt = (a->precise ? 1 : 0) + (a->histogram ? 1 : 0), err;
	struct dm_task *dmt;
	const char *resp;

	if (!prog || !aux)
		goto nomem;
	if (nopt)
		snprintf(opts, sizeof(opts), " %d%s%s%s", nopt,
			 a->precise ? " precise_timestamps" : "",
			 a->histogram ? " histogram:" : "",
			 a->histogram ? a->histogram : "");
	if (asprintf(&msg, "@stats_create %" PRIu64 "+%" PRIu64 " /1%s %s %s",
		     start, len, opts, prog, aux) < 0) {
		msg = NULL;
		goto nomem;
	}
	killpoint("@stats_create");
	if (!(dmt = message(ctx, dev, msg, &err)))
		goto out;
	resp = dm_task_get_message_response(dmt);
	errno = 0;
	*id = resp ? strtoull(resp, &end, 10) : 0;
	if (!resp || errno || end == resp)
		err = -EPROTO;
	goto out;
nomem:
	err = -ENOMEM;
out:
	free(prog);
	free(aux);
	free(msg);
	return err;
}

static int remove_region(void *ctx, dev_t dev, uint64_t id)
{
	char msg[64];
	int err;

	snprintf(msg, sizeof(msg), "@stats_delete %" PRIu64, id);
	killpoint("@stats_delete");
	(void)message(ctx, dev, msg, &err);
	return err;
}

static int set_aux(void *ctx, dev_t dev, uint64_t id, const char *aux)
{
	char *esc = aux_escape_arg(aux), *msg = NULL;
	int err;

	if (!esc || asprintf(&msg, "@stats_set_aux %" PRIu64 " %s", id, esc) < 0) {
		free(esc);
		return -ENOMEM;
	}
	killpoint("@stats_set_aux");
	(void)message(ctx, dev, msg, &err);
	free(esc);
	free(msg);
	return err;
}

static int print(void *ctx, dev_t dev, uint64_t id, const char **text)
{
	struct dm_task *dmt;
	char msg[64];
	int err;

	snprintf(msg, sizeof(msg), "@stats_print %" PRIu64, id);
	if (!(dmt = message(ctx, dev, msg, &err)))
		return err;
	*text = dm_task_get_message_response(dmt);
	return 0;
}

static int devices(void *ctx, dev_t *out, size_t max, size_t *n)
{
	struct dm_task *dmt;
	struct dm_names *names;
	int r = -EIO;

	dmstats_release(ctx);
	*n = 0;
	if (!(dmt = dm_task_create(DM_DEVICE_LIST)))
		return -ENOMEM;
	if (!dm_task_run(dmt) || !(names = dm_task_get_names(dmt)))
		goto out;
	r = 0;
	if (!names->dev) /* no device */
		goto out;
	for (;;) {
		if (*n < max)
			out[(*n)++] = (dev_t)names->dev;
		if (!names->next)
			break;
		names = (struct dm_names *)((char *)names + names->next);
	}
out:
	dm_task_destroy(dmt);
	return r;
}

static int extents(void *ctx, int fd, bool sync, struct extent_list *out)
{
	(void)ctx;
	return fiemap_read(fd, sync, out);
}

/* Whether this libdevmapper reads quoted group aliases: 1.02.197 (LVM2
 * 2.03.23) and later do; Debian 12's 1.02.185 does not. */
static bool reads_quoted_aliases(void)
{
	char v[64] = "";
	unsigned a = 0, b = 0, c = 0;

	if (!dm_get_library_version(v, sizeof(v)) ||
	    sscanf(v, "%u.%u.%u", &a, &b, &c) != 3)
		return false;
	return a > 1 || (a == 1 && (b > 2 || (b == 2 && c >= 197)));
}

void dmstats_backend(struct dmstats *s, struct dm_backend *be)
{
	s->last = NULL;
	be->identify = identify;
	be->list = list;
	be->create = create;
	be->remove = remove_region;
	be->set_aux = set_aux;
	be->extents = extents;
	be->print = print;
	be->devices = devices;
	be->quoted_aliases = reads_quoted_aliases();
	be->ctx = s;
}
