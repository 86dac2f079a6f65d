/* budget.c: what each user but root may make the supervisor do: the
 * kernel reads its calls cost, as a bucket refilled at a fixed rate. */
#include "front/budget.h"

#include <string.h>

void budget_init(struct budget *b, double rate, double burst)
{
	memset(b, 0, sizeof(*b));
	b->rate = rate;
	b->burst = burst;
}

static void refill(const struct budget *b, struct budget_uid *u, double now)
{
	if (now > u->at)
		u->tokens += (now - u->at) * b->rate;
	if (u->tokens > b->burst)
		u->tokens = b->burst;
	u->at = now;
}

/* UID's bucket, made (full) if new: in a free slot, or in place of the
 * fullest one (a full bucket is as good as none). */
static struct budget_uid *bucket(struct budget *b, uid_t uid, double now)
{
	struct budget_uid *u, *fullest = NULL;

	for (size_t i = 0; i < b->n; i++) {
		u = &b->v[i];
		refill(b, u, now);
		if (u->uid == uid)
			return u;
		if (!fullest || u->tokens > fullest->tokens)
			fullest = u;
	}
	u = b->n < BUDGET_UIDS ? &b->v[b->n++] : fullest;
	u->uid = uid;
	u->tokens = b->burst;
	u->at = now;
	return u;
}

bool budget_take(struct budget *b, uid_t uid, double cost, double now,
		 double *wait)
{
	struct budget_uid *u;
	double need;

	*wait = 0;
	if (uid == 0)
		return true;
	u = bucket(b, uid, now);
	need = cost < b->burst ? cost : b->burst;
	if (u->tokens >= need) {
		u->tokens -= cost; /* below 0 for a call over the burst */
		return true;
	}
	*wait = (need - u->tokens) / b->rate;
	return false;
}
