/* regions.c: one device's dm-stats regions as we know them: the kernel's
 * @stats_list parsed, and kept right by each change we send through it. */
#include "core/regions.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void regions_init(struct regions *rs, const struct dm_backend *be,
		  struct ioctl_counts *count, dev_t dev, const char *name)
{
	memset(rs, 0, sizeof(*rs));
	rs->be = be;
	rs->count = count;
	rs->dev = dev;
	rs->name = name;
}

void regions_free(struct regions *rs)
{
	aux_list_free(&rs->list);
	free(rs->text);
	rs->text = NULL;
	rs->valid = false;
}

void regions_touched(struct regions *rs)
{
	free(rs->text);
	rs->text = NULL;
	rs->text_len = 0;
}

static void counted(struct regions *rs, uint64_t *kind)
{
	(*kind)++;
	rs->count->total++;
}

static int refresh_once(struct regions *rs);

int regions_refresh(struct regions *rs)
{
	size_t said = rs->skipped_said;
	int r = refresh_once(rs);

	/* rows that do not parse may be a reply spoiled in transit: once
	 * more, before anything is decided from it (not every pass for a
	 * row that stays so: only when their number changes) */
	if (r >= 0 && rs->list.skipped && rs->list.skipped != said) {
		regions_touched(rs);
		r = refresh_once(rs);
	}
	return r;
}

static int refresh_once(struct regions *rs)
{
	const char *resp = NULL;
	struct aux_list l;
	size_t len;
	bool same;
	int r;

	counted(rs, &rs->count->stats_list);
	if ((r = rs->be->list(rs->be->ctx, rs->dev, &resp)) < 0) {
		rs->valid = false;
		return r;
	}
	if (!resp)
		resp = "";
	len = strlen(resp);
	if (rs->valid && rs->text && rs->text_len == len &&
	    !memcmp(rs->text, resp, len)) {
		rs->stale = false;
		return 1;
	}
	regions_touched(rs);
	if (aux_list_parse(resp, &l)) {
		rs->valid = false;
		return -ENOMEM;
	}
	if ((rs->text = malloc(len + 1))) { /* else: always parsed */
		memcpy(rs->text, resp, len + 1);
		rs->text_len = len;
	}
	if (l.skipped && l.skipped != rs->skipped_said)
		log_warnx("device %s: ignored %zu malformed @stats_list rows",
			  rs->name, l.skipped);
	rs->skipped_said = l.skipped;
	/* what we made it, and nothing else: as good as unchanged */
	same = rs->valid && aux_list_same(&l, &rs->list);
	aux_list_count_claims(&l);
	aux_list_free(&rs->list);
	rs->list = l;
	rs->valid = true;
	rs->stale = false;
	return same ? 1 : 0;
}

/* Record a region we created, so that the list stays right without
 * another @stats_list. */
static void list_add(struct regions *rs, uint64_t id, uint64_t start,
		     uint64_t len, const struct region_args *a)
{
	struct aux_region r = { .id = id, .start = start, .len = len,
				.step = len, .precise = a->precise,
				.claims = 1 /* by the group's descriptor */ };

	r.program_id = strdup(a->program_id ? a->program_id : "");
	r.aux_data = strdup(a->aux_data ? a->aux_data : "");
	r.histogram = a->histogram ? strdup(a->histogram) : NULL;
	if (!r.program_id || !r.aux_data || (a->histogram && !r.histogram) ||
	    aux_list_insert(&rs->list, &r)) {
		aux_region_free(&r);
		rs->valid = false; /* relist at the next pass */
	}
}

int regions_create(struct regions *rs, uint64_t start, uint64_t len,
		   const struct region_args *a, uint64_t *id)
{
	int r;

	regions_touched(rs);
	counted(rs, &rs->count->stats_create);
	if ((r = rs->be->create(rs->be->ctx, rs->dev, start, len, a, id)) < 0)
		return r;
	if (*id > AUX_ID_MAX)
		return -EPROTO; /* the kernel's reply is not one we can use */
	list_add(rs, *id, start, len, a);
	return 0;
}

int regions_delete(struct regions *rs, uint64_t id)
{
	int r;

	regions_touched(rs);
	counted(rs, &rs->count->stats_delete);
	r = rs->be->remove(rs->be->ctx, rs->dev, id);
	if (r == 0 || r == -ENOENT) /* gone; else it is still there */
		aux_list_remove(&rs->list, id);
	return r;
}

int regions_set_aux(struct regions *rs, uint64_t id, const char *aux)
{
	struct aux_region *reg;
	char *s;
	int r;

	regions_touched(rs);
	counted(rs, &rs->count->stats_set_aux);
	if ((r = rs->be->set_aux(rs->be->ctx, rs->dev, id, aux)) < 0)
		return r;
	if (!(reg = aux_list_find(&rs->list, id)))
		return 0;
	if (!(s = strdup(aux))) {
		rs->valid = false;
		return 0;
	}
	free(reg->aux_data);
	reg->aux_data = s;
	return 0;
}

int regions_print(struct regions *rs, uint64_t id, struct io_counters *out)
{
	const struct aux_region *reg = aux_list_find(&rs->list, id);
	const char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	counted(rs, &rs->count->stats_print);
	if ((r = rs->be->print(rs->be->ctx, rs->dev, id, &text)) < 0)
		return r;
	r = counters_parse(text, reg && reg->precise, out);
	return r == -EINVAL ? -EPROTO : r;
}
