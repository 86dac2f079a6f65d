/* killpoint.h: a hook for crash tests: with DMFILEMAP_TEST_KILL_AT=N the
 * process SIGKILLs itself just before its Nth change to the kernel or state. */
#ifndef DMF_KILLPOINT_H
#define DMF_KILLPOINT_H

#define KILLPOINT_ENV "DMFILEMAP_TEST_KILL_AT"

/* Read KILLPOINT_ENV (once, at start). */
void killpoint_init(void);
/* A change named WHAT is about to be made: the Nth one is never made. */
void killpoint(const char *what);

#endif
