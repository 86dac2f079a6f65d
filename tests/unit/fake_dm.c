/* fake_dm.c: a simulated dm-stats kernel behind struct dm_backend (see
 * fake_dm.h). Region ids, @stats_list text and the errors for unknown ids
 * follow drivers/md/dm-stats.c. */
#define _GNU_SOURCE
#include "fake_dm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#define FAKE_DEVS 8
#define FAKE_FDS 16
#define FAKE_RULES 8
#define FAKE_DEV_REGIONS 256 /* per device */
#define FAKE_FD_EXTENTS 64 /* per fd */
#define FAKE_ID_MAX 0x7fffffffULL /* the kernel's ids are ints */

struct fake_dev {
	bool used;
	dev_t dev;
	char name[128];
	struct fake_region r[FAKE_DEV_REGIONS]; /* sorted by id */
	size_t n;
};

struct fake_fd {
	bool used;
	int fd;
	struct extent e[FAKE_FD_EXTENTS];
	size_t n;
};

struct fake_rule {
	enum fake_op op;
	unsigned long at; /* the call number that fails */
	int err;
};

static struct fake {
	struct fake_dev devs[FAKE_DEVS];
	struct fake_fd fds[FAKE_FDS];
	struct fake_rule rules[FAKE_RULES];
	size_t nrules;
	int always[FAKE_NOPS];
	unsigned long calls[FAKE_NOPS];
	fake_hook_fn hook;
	void *hook_arg;
	char *text; /* the last list reply */
	struct {
		unsigned long at; /* the list call spoiled, 0: none */
		enum fake_damage how;
		size_t row;
	} damage;
} F;

static void region_free(struct fake_region *r)
{
	free(r->program_id);
	free(r->aux_data);
	free(r->histogram);
}

void fake_reset(void)
{
	for (size_t i = 0; i < FAKE_DEVS; i++)
		for (size_t j = 0; j < F.devs[i].n; j++)
			region_free(&F.devs[i].r[j]);
	free(F.text);
	memset(&F, 0, sizeof(F));
}

static struct fake_dev *find_dev(dev_t dev)
{
	for (size_t i = 0; i < FAKE_DEVS; i++)
		if (F.devs[i].used && F.devs[i].dev == dev)
			return &F.devs[i];
	return NULL;
}

int fake_add_device(dev_t dev, const char *name)
{
	struct fake_dev *d = NULL;

	if (find_dev(dev))
		return -EEXIST;
	for (size_t i = 0; i < FAKE_DEVS && !d; i++)
		if (!F.devs[i].used)
			d = &F.devs[i];
	if (!d)
		return -ENOSPC;
	d->used = true;
	d->dev = dev;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return 0;
}

static struct fake_region *find_region(struct fake_dev *d, uint64_t id)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (d->r[i].id == id)
			return &d->r[i];
	return NULL;
}

static int64_t add_region(struct fake_dev *d, uint64_t id, uint64_t start,
			  uint64_t len, const struct region_args *a)
{
	struct fake_region r = { .start = start, .len = len };
	size_t i;

	if (len == 0 || start + len < start)
		return -EINVAL;
	if (id == FAKE_ID_LOWEST) /* the kernel's walk: first gap wins */
		for (id = 0, i = 0; i < d->n && d->r[i].id == id; i++)
			id++;
	if (id > FAKE_ID_MAX)
		return -ENFILE;
	if (find_region(d, id))
		return -EEXIST;
	if (d->n == FAKE_DEV_REGIONS)
		return -ENOMEM; /* as the kernel says when out of memory */
	r.id = id;
	r.precise = a->precise;
	r.program_id = strdup(a->program_id ? a->program_id : "");
	r.aux_data = strdup(a->aux_data ? a->aux_data : "");
	r.histogram = a->histogram ? strdup(a->histogram) : NULL;
	if (!r.program_id || !r.aux_data || (a->histogram && !r.histogram)) {
		region_free(&r);
		return -ENOMEM;
	}
	for (i = 0; i < d->n && d->r[i].id < id;)
		i++;
	memmove(&d->r[i + 1], &d->r[i], (d->n - i) * sizeof(*d->r));
	d->r[i] = r;
	d->n++;
	return (int64_t)id;
}

int64_t fake_add_region_args(dev_t dev, uint64_t id, uint64_t start,
			     uint64_t len, const struct region_args *a)
{
	struct fake_dev *d = find_dev(dev);

	return d ? add_region(d, id, start, len, a) : -ENODEV;
}

int64_t fake_add_region(dev_t dev, uint64_t id, uint64_t start, uint64_t len,
			const char *aux_data)
{
	struct region_args a = { "dmstats", aux_data, false, NULL };

	return fake_add_region_args(dev, id, start, len, &a);
}

int fake_remove_region(dev_t dev, uint64_t id)
{
	struct fake_dev *d = find_dev(dev);
	struct fake_region *r = find_region(d, id);

	if (!r)
		return d ? -FAKE_ENOREGION : -ENODEV;
	region_free(r);
	memmove(r, r + 1, (size_t)(d->r + d->n - r - 1) * sizeof(*r));
	d->n--;
	return 0;
}

int fake_set_region_aux(dev_t dev, uint64_t id, const char *aux_data)
{
	struct fake_dev *d = find_dev(dev);
	struct fake_region *r = find_region(d, id);
	char *s;

	if (!r)
		return d ? -FAKE_ENOREGION : -ENODEV;
	if (!(s = strdup(aux_data)))
		return -ENOMEM;
	free(r->aux_data);
	r->aux_data = s;
	return 0;
}

const struct fake_region *fake_region(dev_t dev, uint64_t id)
{
	return find_region(find_dev(dev), id);
}

size_t fake_count(dev_t dev)
{
	struct fake_dev *d = find_dev(dev);

	return d ? d->n : 0;
}

const struct fake_region *fake_region_at(dev_t dev, size_t i)
{
	struct fake_dev *d = find_dev(dev);

	return d && i < d->n ? &d->r[i] : NULL;
}

static struct fake_fd *find_fd(int fd)
{
	for (size_t i = 0; i < FAKE_FDS; i++)
		if (F.fds[i].used && F.fds[i].fd == fd)
			return &F.fds[i];
	return NULL;
}

void fake_set_extents(int fd, const struct extent *e, size_t n)
{
	struct fake_fd *slot = find_fd(fd);

	for (size_t i = 0; i < FAKE_FDS && !slot; i++)
		if (!F.fds[i].used)
			slot = &F.fds[i];
	if (!slot || n > FAKE_FD_EXTENTS)
		abort(); /* a test wants more than the fake holds */
	slot->used = true;
	slot->fd = fd;
	slot->n = n;
	if (n)
		memcpy(slot->e, e, n * sizeof(*e));
}

void fake_fail_nth(enum fake_op op, unsigned n, int err)
{
	if (F.nrules == FAKE_RULES)
		abort();
	F.rules[F.nrules++] = (struct fake_rule){ op, F.calls[op] + n, err };
}

void fake_fail_always(enum fake_op op, int err)
{
	F.always[op] = err;
}

void fake_clear_faults(void)
{
	F.nrules = 0;
	memset(F.always, 0, sizeof(F.always));
	F.damage.at = 0;
}

void fake_damage_list_nth(unsigned n, enum fake_damage how, size_t row)
{
	F.damage.at = F.calls[FAKE_LIST] + n;
	F.damage.how = how;
	F.damage.row = row;
}

/* TEXT's row ROW spoiled as HOW says (see fake_damage_list_nth). */
static void damage_text(char *text, enum fake_damage how, size_t row)
{
	char *p = text, *nl;
	size_t len;

	for (size_t i = 0; i < row && p; i++)
		p = (nl = strchr(p, '\n')) ? nl + 1 : NULL;
	if (!p || !*p)
		return;
	len = (nl = strchr(p, '\n')) ? (size_t)(nl - p) : strlen(p);
	if (how == FAKE_SHORT)
		p[len / 2] = '\0';
	else
		memset(p, '?', len);
}

unsigned long fake_calls(enum fake_op op)
{
	return F.calls[op];
}

unsigned long fake_calls_total(void)
{
	unsigned long t = 0;

	for (int i = 0; i < FAKE_NOPS; i++)
		t += F.calls[i];
	return t;
}

void fake_clear_calls(void)
{
	for (size_t i = 0; i < F.nrules; i++) /* still "the Nth from now" */
		F.rules[i].at -= F.calls[F.rules[i].op];
	if (F.damage.at)
		F.damage.at -= F.calls[FAKE_LIST];
	memset(F.calls, 0, sizeof(F.calls));
}

void fake_set_hook(fake_hook_fn fn, void *arg)
{
	F.hook = fn;
	F.hook_arg = arg;
}

char *fake_list_text(dev_t dev)
{
	struct fake_dev *d = find_dev(dev);
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; d && i < d->n; i++) {
		const struct fake_region *r = &d->r[i];
		/* dm_stats_list(): "%d: %llu+%llu %llu %s %s", the text as
		 * stored; "-" is what an empty argument was sent as */
		fprintf(f, "%" PRIu64 ": %" PRIu64 "+%" PRIu64 " %" PRIu64,
			r->id, r->start, r->len, r->len);
		fprintf(f, " %s %s", *r->program_id ? r->program_id : "-",
			*r->aux_data ? r->aux_data : "-");
		if (r->precise)
			fputs(" precise_timestamps", f);
		if (r->histogram)
			fprintf(f, " histogram:%s", r->histogram);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

/* Count the call, run the hook, apply the faults; then, for a message, the
 * device must exist (DM_DEV_TARGET_MSG's ENXIO). 0 or -errno. */
static int enter(enum fake_op op, dev_t dev, struct fake_dev **d)
{
	unsigned long call = ++F.calls[op];

	free(F.text); /* the last reply is valid until the next call */
	F.text = NULL;
	if (F.hook)
		F.hook(op, call, dev, F.hook_arg);
	for (size_t i = 0; i < F.nrules; i++) {
		if (F.rules[i].op != op || F.rules[i].at != call)
			continue;
		int err = F.rules[i].err;
		F.rules[i] = F.rules[--F.nrules];
		return -err;
	}
	if (F.always[op])
		return -F.always[op];
	return d && !(*d = find_dev(dev)) ? -ENXIO : 0;
}

static int op_identify(void *ctx, dev_t dev, char *name, size_t namelen,
		       char *why, size_t whylen)
{
	struct fake_dev *d;
	int r;

	(void)ctx;
	if ((r = enter(FAKE_IDENTIFY, dev, NULL)) < 0) {
		snprintf(why, whylen, "device %u:%u: device-mapper info failed",
			 major(dev), minor(dev));
		return r;
	}
	if (!(d = find_dev(dev))) {
		snprintf(why, whylen, "not on a device-mapper device");
		return -ENODEV;
	}
	snprintf(name, namelen, "%s", d->name);
	return 0;
}

static int op_list(void *ctx, dev_t dev, const char **text)
{
	struct fake_dev *d;
	int r;

	(void)ctx;
	if ((r = enter(FAKE_LIST, dev, &d)) < 0)
		return r;
	if (!(F.text = fake_list_text(dev)))
		return -ENOMEM;
	if (F.damage.at && F.damage.at == F.calls[FAKE_LIST]) {
		damage_text(F.text, F.damage.how, F.damage.row);
		F.damage.at = 0;
	}
	*text = F.text;
	return 0;
}

static int op_create(void *ctx, dev_t dev, uint64_t start, uint64_t len,
		     const struct region_args *a, uint64_t *id)
{
	struct fake_dev *d;
	int64_t got;
	int r;

	(void)ctx;
	if ((r = enter(FAKE_CREATE, dev, &d)) < 0)
		return r;
	if ((got = add_region(d, FAKE_ID_LOWEST, start, len, a)) < 0)
		return (int)got;
	*id = (uint64_t)got;
	return 0;
}

static int op_remove(void *ctx, dev_t dev, uint64_t id)
{
	struct fake_dev *d;
	int r = enter(FAKE_REMOVE, dev, &d);

	(void)ctx;
	return r < 0 ? r : fake_remove_region(dev, id);
}

static int op_set_aux(void *ctx, dev_t dev, uint64_t id, const char *aux)
{
	struct fake_dev *d;
	int r = enter(FAKE_SET_AUX, dev, &d);

	(void)ctx;
	return r < 0 ? r : fake_set_region_aux(dev, id, aux);
}

static int op_extents(void *ctx, int fd, bool sync, struct extent_list *out)
{
	const struct fake_fd *slot;
	int r;

	(void)ctx;
	(void)sync;
	memset(out, 0, sizeof(*out));
	if ((r = enter(FAKE_EXTENTS, 0, NULL)) < 0)
		return r;
	if (!(slot = find_fd(fd)))
		return -EBADF;
	for (size_t i = 0; i < slot->n; i++)
		if ((r = extent_list_add(out, slot->e[i].start,
					 slot->e[i].len)) < 0) {
			extent_list_free(out);
			return r;
		}
	extent_list_finish(out);
	return 0;
}

void fake_io(dev_t dev, uint64_t sector, uint64_t nsect, bool write,
	     uint64_t ms)
{
	struct fake_dev *d = find_dev(dev);
	int w = write ? 4 : 0; /* the write counters follow the reads' */

	for (size_t i = 0; d && i < d->n; i++) {
		struct fake_region *r = &d->r[i];
		uint64_t t = r->precise ? ms * 1000000 : ms, b = 0;
		if (sector >= r->start + r->len || sector + nsect <= r->start)
			continue;
		r->io[0 + w]++;
		r->io[2 + w] += nsect;
		r->io[3 + w] += t;
		r->io[9] += t;
		r->io[10] += t;
		r->io[write ? 12 : 11] += t;
		/* the bucket: the first bound above MS (ms bounds) */
		for (const char *p = r->histogram; p && *p; b++) {
			char *end;
			if (strtoull(p, &end, 10) > (r->precise ? ms * 1000000 : ms))
				break;
			p = *end == ',' ? end + 1 : end;
		}
		if (r->histogram && b < FAKE_BUCKETS)
			r->bucket[b]++;
	}
}

int fake_clear_counters(dev_t dev, uint64_t id)
{
	struct fake_dev *d = find_dev(dev);
	struct fake_region *r = d ? find_region(d, id) : NULL;

	if (!r)
		return -FAKE_ENOREGION;
	memset(r->io, 0, sizeof(r->io));
	memset(r->bucket, 0, sizeof(r->bucket));
	return 0;
}

/* The counts of a histogram with BOUNDS ("10,20"): one more than them. */
static size_t buckets_of(const char *bounds)
{
	size_t n = 1;

	for (const char *p = bounds; *p; p++)
		n += *p == ',';
	return n < FAKE_BUCKETS ? n : FAKE_BUCKETS;
}

static int op_print(void *ctx, dev_t dev, uint64_t id, const char **text)
{
	const struct fake_region *reg;
	struct fake_dev *d;
	char buf[1024];
	int r, off;

	(void)ctx;
	if ((r = enter(FAKE_PRINT, dev, &d)) < 0)
		return r;
	if (!(reg = find_region(d, id)))
		return -FAKE_ENOREGION;
	off = snprintf(buf, sizeof(buf), "%llu+%llu",
		       (unsigned long long)reg->start,
		       (unsigned long long)reg->len);
	for (int i = 0; i < 13; i++)
		off += snprintf(buf + off, sizeof(buf) - (size_t)off, " %llu",
				(unsigned long long)reg->io[i]);
	for (size_t i = 0; reg->histogram && i < buckets_of(reg->histogram); i++)
		off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%s%llu",
				i ? ":" : " ",
				(unsigned long long)reg->bucket[i]);
	snprintf(buf + off, sizeof(buf) - (size_t)off, "\n");
	if (!(F.text = strdup(buf)))
		return -ENOMEM;
	*text = F.text;
	return 0;
}

static int op_devices(void *ctx, dev_t *out, size_t max, size_t *n)
{
	int r;

	(void)ctx;
	*n = 0;
	if ((r = enter(FAKE_DEVICES, 0, NULL)) < 0)
		return r;
	for (size_t i = 0; i < FAKE_DEVS; i++)
		if (F.devs[i].used && *n < max)
			out[(*n)++] = F.devs[i].dev;
	return 0;
}

struct dm_backend fake_backend(void)
{
	return (struct dm_backend){
		.identify = op_identify,
		.list = op_list,
		.create = op_create,
		.remove = op_remove,
		.set_aux = op_set_aux,
		.extents = op_extents,
		.print = op_print,
		.devices = op_devices,
		.ctx = &F,
	};
}
