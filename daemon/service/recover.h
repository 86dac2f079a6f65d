/* recover.h: what an update left half-done, finished or undone: the marks
 * (core/marks.h) at start and after each save, a re-adopted group's rest. */
#ifndef DMF_RECOVER_H
#define DMF_RECOVER_H

#include <stdint.h>
#include <sys/types.h>

#include "core/ledger.h"
#include "core/marks.h"

struct service;
struct device;
struct monitor;

struct recovery_dev {
	dev_t dev;
	struct marks_swept sw;
};

/* What the start found on each device, for the re-adoptions. */
struct recovery {
	struct recovery_dev *v;
	size_t n;
	size_t cleared, undone, stripped; /* in all */
};

/* At start, before any monitor is re-adopted: every dm device is listed
 * (its list then serves the re-adoptions) and its marks of S's instance
 * finished or undone, into RC. Returns 0 or -ENOMEM. */
int recover_devices(struct service *s, struct recovery *rc);
void recovery_free(struct recovery *rc);
/* What RC found for monitor OWNER (its id before the restart) of DEV. */
const struct mark_found *recovery_find(const struct recovery *rc, dev_t dev,
				       uint64_t owner);

/* A group re-adopted after a restart, with SAVED its saved ledger's
 * pending regions: the rest of the update a crash cut short is done. The
 * old leader's descriptor on a member is cleared, and the regions the
 * update dropped (saved as pending, out of the group now) are deleted. */
void recover_group(struct monitor *m, const struct ledger_list *pending);

/* A save of S's state has been made: the marks it covers may go. */
void recover_saved(struct service *s);
/* In D's pass, after its list: sweep the marks its owner has saved, into
 * SW (marks_swept_free it; its failures, by owner, for the caller to say). */
void recover_pass(struct service *s, struct device *d,
		  struct marks_swept *sw);

#endif
