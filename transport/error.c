#include <string.h>

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
	case TERN_EBADPKT: return "malformed packet";
	case TERN_EBADCRC: return "packet checksum mismatch";
	case TERN_EBADVERSION: return "unknown protocol version";
	case TERN_ENOHANDLER: return "no handler for this request type";
	case TERN_EREMOTE: return "the remote handler returned an error";
	case TERN_ENOTOWNER: return "the session belongs to the RPC layer; call through it";
	default: break;
	}
	if (err < 0 && err > -1000)
		return strerror(-err); /* glibc: a static string for every errno */
	return "unknown error";
}
