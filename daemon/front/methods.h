/* methods.h: the Varlink methods the supervisor serves: parameter checks,
 * permission checks, and the replies of Add, Create, Remove, List, ... */
#ifndef DMF_METHODS_H
#define DMF_METHODS_H

#include <cjson/cJSON.h>

#include "front/budget.h"

struct conn;
struct monitor;
struct service;

/* What the methods serve. */
struct methods {
	struct service *svc;
	double started; /* CLOCK_MONOTONIC seconds at start, for uptime */
	struct budget budget; /* each user's but root's (budget_init it) */
};

/* A conn_dispatch_fn, ARG a struct methods: handle one message from C
 * with the fds that came with it (taken over: used or closed). */
void methods_dispatch(void *arg, struct conn *c, const char *msg, int *fds,
		      int nfds);
/* M as the Monitor type of the interface. */
cJSON *monitor_json(const struct monitor *m);

/* The interface's IDL (generated from protocol/). */
extern const char *const dmf_interface_description;

#endif
