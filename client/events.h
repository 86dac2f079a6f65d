/* events.h: monitor events as one line of text, shared by dmfilemapctl
 * watch and the foreground dmfilemapd shim. */
#ifndef DMF_EVENTS_H
#define DMF_EVENTS_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Print EV ("TIME EVENT id=N group=G regions=R PATH: MESSAGE") if its
 * kind is shown at VERBOSE (0: added, regrouped, error, ended; 1 and up:
 * every event). */
void event_print(FILE *f, const cJSON *ev, int verbose);

#endif
