/* dmfilemap.h: constants shared by the supervisor, dmfilemapctl and the
 * dmfilemapd shim: version, default paths, protocol limits and exit codes. */
#ifndef DMFILEMAP_H
#define DMFILEMAP_H

#define DMF_VERSION "0.1.0"
#define DMF_INTERFACE "io.dmfilemap.Supervisor"
#define DMF_SERVICE "org.varlink.service"
/* A Varlink error name of our interface. */
#define DMF_ERR(name) DMF_INTERFACE "." name

#ifndef DMF_SBINDIR
#define DMF_SBINDIR "/usr/local/sbin"
#endif

/* Default control socket; clients also honour $DMFILEMAP_SOCKET. */
#define DMF_SOCKET_DEFAULT "/run/dmfilemap/supervisor.sock"
#define DMF_SOCKET_ENV "DMFILEMAP_SOCKET"
/* Overrides the supervisor binary the shim starts (tests, uninstalled runs). */
#define DMF_SUPERVISORD_ENV "DMFILEMAP_SUPERVISORD"

/* Largest call the supervisor accepts, NUL included; a client that sends
 * a longer one is disconnected. */
#define DMF_MSG_MAX (64 * 1024)
/* Largest reply a client accepts (a List of many monitors is long). */
#define DMF_REPLY_MAX (256 * 1024 * 1024)
/* Descriptors accepted with one message. */
#define DMF_FDS_MAX 4
/* Bytes of replies queued for a client that does not read before it is
 * disconnected. */
#define DMF_OUTBUF_MAX (4 * 1024 * 1024)
/* Seconds a client may leave a message half-sent. */
#define DMF_IDLE_TIMEOUT 30
/* Seconds a client may stay connected without a call in progress (a
 * Watch stream is not idle). */
#define DMF_QUIET_TIMEOUT 60
/* Clients at once: in all; of one uid other than root's; and kept for
 * root (the shim, dmfilemapctl add) whatever the others hold. */
#define DMF_CLIENTS_MAX 1024
#define DMF_CLIENTS_PER_UID 128
#define DMF_CLIENTS_ROOT_RESERVE 64
#define DMF_MONITORS_MAX 100000
/* What one user but root may make the supervisor do: regions read for
 * its Stats calls a second, and saved up at most; replies queued for it */
#define DMF_UID_READS_PER_S 2000
#define DMF_UID_READS_BURST 40000
#define DMF_UID_BACKLOG_MAX (1024 * 1024)
#define DMF_ALIAS_MAX 128
#define DMF_BOUNDS_MAX 64

/* Default interval of the per-device group check, in milliseconds. */
#define DMF_INTERVAL_DEFAULT 1000

/* Exit codes of all three programs (see the man pages). */
#define DMF_EXIT_OK 0
#define DMF_EXIT_FAIL 1
#define DMF_EXIT_USAGE 2

#endif
