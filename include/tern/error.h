/* Error codes: every failing call returns a negative value from this list. */
#ifndef TERN_ERROR_H
#define TERN_ERROR_H

#include "export.h"

/* tern's own codes, disjoint from errno on every system (errno values are
 * small positive numbers; these are all at or below -1000): a caller can
 * never mistake one for -errno. What goes on the wire is a protocol
 * constant (docs/protocol.md), never one of these. */
enum tern_error {
	TERN_OK = 0,
	TERN_EINVAL = -1000,       /* bad argument */
	TERN_ENOMEM = -1001,       /* allocation failed */
	TERN_EAGAIN = -1002,       /* resource full now (a queue; the server's request table); retry */
	TERN_EMSGSIZE = -1003,     /* message larger than the configured (or the peer's) limit */
	TERN_ENOTSUP = -1004,      /* driver or feature not built or not available */
	TERN_EADDRINUSE = -1005,   /* address or simulated node already taken */
	TERN_ETIMEDOUT = -1006,    /* RPC deadline passed */
	TERN_ECANCELED = -1007,    /* RPC cancelled by the caller */
	TERN_EBUSY = -1008,        /* still in use (a DPDK queue or port) */
	TERN_EWRONGTHREAD = -1009, /* engine used from a thread that did not create it */
	TERN_EPEERDEAD = -1010,    /* peer stopped answering for longer than dead_after */
	TERN_EPEERRESTART = -1011, /* peer restarted (new epoch); session is gone */
	TERN_ECLOSED = -1012,      /* session closed locally or by the peer */
	TERN_ENOSESSION = -1013,   /* session table full */
	TERN_ENOHANDLER = -1014,   /* the server has no handler for this request type */
	TERN_EREMOTE = -1015,      /* the handler answered with an error code */
	TERN_ENOTOWNER = -1016,    /* the session belongs to the RPC layer: call through it */
	TERN_EBADARGS = -1017,     /* the server could not decode the call's arguments */
	TERN_EPROTO = -1018,       /* the peer broke the protocol (an answer tern cannot read) */
	TERN_ENODEV = -1019,       /* no such device (a DPDK port name) */
	TERN_EPERM = -1020,        /* the system refused (permissions, a seccomp filter) */
	TERN_ESYSTEM = -1021,      /* another system error; the engine's log line says which */
};

/* A static string describing err (a code above or 0); never NULL. */
TERN_API const char *tern_strerror(int err);

#endif
