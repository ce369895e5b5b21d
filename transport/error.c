#include <errno.h>

#include "../drivers/driver.h"
#include "tern/error.h"

const char *tern_strerror(int err)
{
	switch (err) {
	case TERN_OK: return "success";
	case TERN_EINVAL: return "invalid argument";
	case TERN_ENOMEM: return "out of memory";
	case TERN_EAGAIN: return "resource temporarily full; poll and retry";
	case TERN_EMSGSIZE: return "message larger than the configured limit";
	case TERN_ENOTSUP: return "driver or feature not available";
	case TERN_EADDRINUSE: return "address already in use";
	case TERN_ETIMEDOUT: return "deadline passed";
	case TERN_ECANCELED: return "cancelled";
	case TERN_EBUSY: return "still in use";
	case TERN_EWRONGTHREAD: return "engine used from a thread that did not create it";
	case TERN_EPEERDEAD: return "peer stopped answering";
	case TERN_EPEERRESTART: return "peer restarted; session lost";
	case TERN_ECLOSED: return "session closed";
	case TERN_ENOSESSION: return "session table full";
	case TERN_ENOHANDLER: return "no handler for this request type";
	case TERN_EREMOTE: return "the remote handler returned an error";
	case TERN_ENOTOWNER: return "the session belongs to the RPC layer; call through it";
	case TERN_EBADARGS: return "the server could not decode the arguments";
	case TERN_EPROTO: return "protocol violation by the peer";
	case TERN_ENODEV: return "no such device";
	case TERN_EPERM: return "not permitted by the system";
	case TERN_ESYSTEM: return "system error";
	default: return "unknown error";
	}
}

int tni_error_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return 0;
	case EINVAL: return TERN_EINVAL;
	case ENOMEM: case ENOBUFS: return TERN_ENOMEM;
	case EAGAIN: return TERN_EAGAIN;
	case EMSGSIZE: return TERN_EMSGSIZE;
	case EOPNOTSUPP: case ENOSYS: case EAFNOSUPPORT: case EPROTONOSUPPORT: return TERN_ENOTSUP;
	case EADDRINUSE: return TERN_EADDRINUSE;
	case EADDRNOTAVAIL: case ENODEV: case ENXIO: return TERN_ENODEV;
	case EPERM: case EACCES: return TERN_EPERM;
	case EBUSY: return TERN_EBUSY;
	default: return TERN_ESYSTEM;
	}
}
