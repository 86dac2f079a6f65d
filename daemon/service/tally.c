/* tally.c: a monitor's I/O counts: the counters of regions its plan drops
 * carried into its ledger, and its totals read from its live regions. */
#define _GNU_SOURCE
#include "service/tally.h"
#include "core/ledger.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct member *member_of(const struct group_view *v, uint64_t id)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->members[i].id == id)
			return &v->members[i];
	return NULL;
}

/* The regions carried since the pending list held N0 are live again. */
static void uncarry(struct ledger *l, size_t n0)
{
	while (l->pending.n > n0)
		(void)ledger_settle_one(l, l->pending.n - 1, false);
}

int tally_carry(struct monitor *m, const struct group_view *v,
		const struct plan *p, size_t *n, char *why, size_t whylen)
{
	size_t n0 = m->ledger.pending.n;

	*n = 0;
	for (size_t i = 0; i < p->nremove; i++) {
		const struct member *x = member_of(v, p->remove[i]);
		struct io_counters c;
		int r;

		if (!x)
			continue;
		r = regions_print(&m->device->rs, x->id, &c);
		if (r < 0 && r != -ENOENT) {
			/* its I/O since the last read would be lost: the
			 * plan waits, and what was carried is live again */
			snprintf(why, whylen, "cannot read the counters of "
				 "region %" PRIu64 " before it goes: %s; the "
				 "group is left as it is", x->id,
				 strerror(-r));
			uncarry(&m->ledger, n0);
			*n = 0;
			return r;
		}
		/* -ENOENT: gone already; its counts as last read are kept */
		if (ledger_carry(&m->ledger, x->id, x->start, x->len,
				 r < 0 ? NULL : &c) < 0) {
			snprintf(why, whylen, "out of memory");
			counters_free(&c);
			uncarry(&m->ledger, n0);
			*n = 0;
			return -ENOMEM;
		}
		(*n)++;
		counters_free(&c);
	}
	return 0;
}

size_t tally_settle_gone(struct monitor *m, const struct group_view *v,
			 const struct group_view *old, size_t *done, char *why,
			 size_t whylen)
{
	struct ledger *l = &m->ledger;
	const struct aux_list *list = &m->device->rs.list;
	size_t left = 0;

	*done = 0;
	for (size_t i = l->pending.n; i-- > 0;) {
		const struct ledger_region *x = &l->pending.v[i];
		const struct aux_region *r = aux_list_find(list, x->id);
		bool gone = !r || r->start != x->start || r->len != x->len;
		bool theirs = !gone && (old ? group_contested(old, x->id)
					    : r->claims > 0);

		if (gone || member_of(v, x->id) || theirs) {
			/* deleted, or released to another group that claims
			 * it too; or a member again: live again */
			bool out = !member_of(v, x->id);
			(void)ledger_settle_one(l, i, out);
			*done += out;
			continue;
		}
		if (!left++)
			snprintf(why, whylen, "cannot delete region %" PRIu64
				 " (%" PRIu64 "+%" PRIu64 ") of the old group: "
				 "retried at the next check", x->id, x->start,
				 x->len);
	}
	return left;
}

static uint64_t *member_ids(const struct group_view *v)
{
	uint64_t *ids = malloc((v->n ? v->n : 1) * sizeof(*ids));

	for (size_t i = 0; ids && i < v->n; i++)
		ids[i] = v->members[i].id;
	return ids;
}

size_t tally_prune(struct monitor *m, const struct group_view *v)
{
	uint64_t *ids;
	size_t n;

	if (!m->ledger.seen.n || !(ids = member_ids(v)))
		return 0;
	n = ledger_prune(&m->ledger, ids, v->n);
	free(ids);
	return n;
}

/* The leader's histogram bounds ("10,20" in ms, or ns if precise) in ns. */
static size_t bounds_ns(const struct group_view *v, uint64_t *out, size_t max)
{
	const char *p = v->histogram;
	size_t n = 0;

	while (p && *p && n < max) {
		char *end;
		unsigned long long b = strtoull(p, &end, 10);
		if (end == p)
			break;
		out[n++] = v->precise ? b : b * 1000000ULL;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

int tally_totals(struct monitor *m, struct io_counters *out, uint64_t *bounds,
		 size_t max, size_t *n)
{
	struct group_view v;
	int r;

	memset(out, 0, sizeof(*out));
	*n = 0;
	if ((r = group_read(&m->device->rs, m->group_id, &v)) < 0)
		return r;
	if (r > 0)
		*n = bounds_ns(&v, bounds, max);
	group_view_free(&v);
	return ledger_total(&m->ledger, out);
}

int tally_read(struct monitor *m, struct io_counters *out, uint64_t *bounds,
	       size_t max, size_t *n, char *why, size_t whylen)
{
	struct group_view v;
	uint64_t *ids;
	size_t nids = 0;
	bool reset = false;
	int r;

	memset(out, 0, sizeof(*out));
	*n = 0;
	if ((r = group_read(&m->device->rs, m->group_id, &v)) <= 0) {
		snprintf(why, whylen, "cannot read the counters of %s: %s",
			 m->path, r < 0 ? "out of memory"
					: "its group is not in the region list");
		return r < 0 ? r : -ENOENT;
	}
	if (!(ids = malloc((v.n ? v.n : 1) * sizeof(*ids))))
		goto nomem;
	for (size_t i = 0; i < v.n; i++) {
		const struct member *x = &v.members[i];
		struct io_counters c;
		r = regions_print(&m->device->rs, x->id, &c);
		if (r == -ENOENT)
			continue; /* deleted since the last list: pruned below */
		if (r < 0) {
			snprintf(why, whylen, "cannot read the counters of %s: "
				 "@stats_print %" PRIu64 " on %s: %s", m->path,
				 x->id, m->device->name, strerror(-r));
			free(ids);
			goto out;
		}
		r = ledger_observe(&m->ledger, x->id, x->start, x->len, &c);
		counters_free(&c);
		if (r < 0) {
			free(ids);
			goto nomem;
		}
		reset |= r == 1;
		ids[nids++] = x->id;
	}
	reset |= ledger_prune(&m->ledger, ids, nids) > 0;
	free(ids);
	*n = bounds_ns(&v, bounds, max);
	if ((r = ledger_total(&m->ledger, out)) < 0)
		goto nomem;
	r = reset;
	goto out;
nomem:
	snprintf(why, whylen, "cannot read the counters of %s: out of memory",
		 m->path);
	r = -ENOMEM;
out:
	group_view_free(&v);
	return r;
}
