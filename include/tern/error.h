/* Error codes: every failing call returns a negative value from this list. */
#ifndef TERN_ERROR_H
#define TERN_ERROR_H

#include <errno.h>

/* Plain errno values keep their meaning; tern-specific ones live above 1000
 * so they never collide with errno. */
enum tern_error {
	TERN_OK = 0,
	TERN_EINVAL = -EINVAL,          /* bad argument */
	TERN_ENOMEM = -ENOMEM,          /* allocation failed */
	TERN_EAGAIN = -EAGAIN,          /* resource full now; poll and retry */
	TERN_EMSGSIZE = -EMSGSIZE,      /* message larger than the configured limit */
	TERN_ENOTSUP = -ENOTSUP,        /* driver or feature not built or not available */
	TERN_EADDRINUSE = -EADDRINUSE,  /* address or simulated node already taken */
	TERN_ETIMEDOUT = -ETIMEDOUT,    /* RPC deadline passed */
	TERN_ECANCELED = -ECANCELED,    /* RPC cancelled by the caller */
	TERN_EBUSY = -EBUSY,            /* still in use (a DPDK queue or port) */
	TERN_EWRONGTHREAD = -1001,      /* engine used from a thread that did not create it */
	TERN_EPEERDEAD = -1002,         /* peer stopped answering for longer than dead_after */
	TERN_EPEERRESTART = -1003,      /* peer restarted (new epoch); session is gone */
	TERN_ECLOSED = -1004,           /* session closed locally or by the peer */
	TERN_ENOSESSION = -1005,        /* session table full */
	TERN_EBADPKT = -1006,           /* malformed packet */
	TERN_EBADCRC = -1007,           /* CRC32C mismatch */
	TERN_EBADVERSION = -1008,       /* unknown wire version */
	TERN_ENOHANDLER = -1009,        /* the server has no handler for this request type */
	TERN_EREMOTE = -1010,           /* the handler answered with an error */
	TERN_ENOTOWNER = -1011,         /* the session belongs to the RPC layer: call through it */
};

/* A static string describing err (negative code or 0); never NULL. */
const char *tern_strerror(int err);

#endif
