/* budget.h: what each user but root may make the supervisor do: the
 * kernel reads its calls cost, as a bucket refilled at a fixed rate. */
#ifndef DMF_BUDGET_H
#define DMF_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BUDGET_UIDS 64 /* users tracked at once (the fullest make room) */

struct budget_uid {
	uid_t uid;
	double tokens; /* reads it may have now */
	double at;     /* when TOKENS was last brought up to date */
};

struct budget {
	double rate, burst; /* reads a second; the most saved up */
	struct budget_uid v[BUDGET_UIDS];
	size_t n;
};

void budget_init(struct budget *b, double rate, double burst);
/* Whether UID may have COST reads made for it at NOW (seconds): root
 * always; others while their bucket holds them (a call costing more than
 * the burst, when it is full). If so they are taken; if not, *WAIT says
 * in how many seconds it may. */
bool budget_take(struct budget *b, uid_t uid, double cost, double now,
		 double *wait);

#endif
