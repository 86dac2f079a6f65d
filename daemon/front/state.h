/* state.h: the registrations, saved atomically to the state file so that a
 * supervisor killed and started again re-adopts every monitor it can. */
#ifndef DMF_STATE_H
#define DMF_STATE_H

#include <ev.h>
#include <stdbool.h>

struct fdstore;
struct service;

struct state {
	char *path;
	ev_timer timer;   /* a save soon after a change */
	bool frozen;      /* shutting down: keep the file as it is */
	double save_cost; /* seconds the last save took: saves are spaced so
			   * that they take at most a tenth of the time */
	struct service *svc;
	struct fdstore *fds;
};

/* Read PATH and re-adopt what it lists into SVC (files from FDS where it
 * has them); later changes are saved there. Returns 0 or -ENOMEM. */
int state_init(struct state *st, struct service *svc, struct fdstore *fds,
	       const char *path);
/* A monitor was added, ended or changed: save soon. */
void state_changed(struct state *st);
/* Save now if a save is pending, then keep the file as it is (shutdown:
 * the monitors ending now are to be re-adopted by the next start). */
void state_freeze(struct state *st);
/* Returns 0 or -errno (said in the log). */
int state_save(struct state *st);
void state_shutdown(struct state *st);

#endif
