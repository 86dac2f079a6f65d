/* events.h: monitor events and registration replies as text, shared by
 * dmfilemapctl and the dmfilemapd shim. */
#ifndef DMF_EVENTS_H
#define DMF_EVENTS_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Print EV ("TIME EVENT id=N group=G regions=R PATH: MESSAGE") if its
 * kind is shown at VERBOSE (0: added, changed, regrouped, error, ended;
 * 1 and up: every event). */
void event_print(FILE *f, const cJSON *ev, int verbose);
/* What an Add reply's PARAMS say of the group's monitor: "" (new),
 * " (already monitored)" or " (already monitored: options changed)". */
const char *added_note(const cJSON *params);

#endif
