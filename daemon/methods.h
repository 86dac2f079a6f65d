/* methods.h: the Varlink methods the supervisor serves: parameter checks,
 * permission checks, and the replies of Add, Create, Remove, List, ... */
#ifndef DMF_METHODS_H
#define DMF_METHODS_H

#include <cjson/cJSON.h>
#include <ev.h>

struct conn;
struct monitor;

/* Handle one message from C with the fds that came with it (taken over:
 * used or closed). */
void dispatch(struct ev_loop *loop, struct conn *c, const char *msg, int *fds,
	      int nfds);
/* M as the Monitor type of the interface. */
cJSON *monitor_json(const struct monitor *m);

/* Set by the server at start. */
extern double server_started;
extern const char *const dmf_interface_description;

#endif
