/* state.h: the registrations, saved atomically to the state file so that a
 * supervisor killed and started again re-adopts every monitor it can. */
#ifndef DMF_STATE_H
#define DMF_STATE_H

#include <ev.h>

/* Read PATH and re-adopt what it lists; later changes are saved there.
 * Returns 0, or -1 on allocation failure. */
int state_init(struct ev_loop *loop, const char *path);
/* A monitor was added, ended or changed: save soon. */
void state_changed(void);
/* Save now if a save is pending, then keep the file as it is (shutdown:
 * the monitors ending now are to be re-adopted by the next start). */
void state_freeze(void);
int state_save(void);
void state_shutdown(void);

#endif
