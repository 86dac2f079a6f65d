/* killpoint.c: a hook for crash tests: with DMFILEMAP_TEST_KILL_AT=N the
 * process SIGKILLs itself just before its Nth change to the kernel or state. */
#include "kernel/killpoint.h"
#include "log.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t kill_at, changes; /* 0: no kill */

void killpoint_init(void)
{
	const char *s = getenv(KILLPOINT_ENV);
	char *end;
	unsigned long long n;

	if (!s || !*s)
		return;
	n = strtoull(s, &end, 10);
	if (*end || n == 0) {
		log_warnx("%s=%s is not a positive number: ignored",
			  KILLPOINT_ENV, s);
		return;
	}
	kill_at = n;
	log_warnx("test hook: killed just before change %llu", n);
}

void killpoint(const char *what)
{
	if (!kill_at || ++changes != kill_at)
		return;
	log_warnx("test hook: SIGKILL before change %llu (%s)",
		  (unsigned long long)changes, what);
	(void)kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}
