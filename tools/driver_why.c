#include "driver_why.h"

const char *driver_auto_why(enum tern_poll_mode mode, enum tern_driver_kind got)
{
	if (got == TERN_DRIVER_SOCKETS && mode == TERN_POLL_BUSY)
		return "sockets, for busy polling: a non-blocking receive on every poll has the shortest round "
		       "trip (docs/uring.md)";
	if (got == TERN_DRIVER_URING)
		return "io_uring, for adaptive polling: no system call while nothing is pending, and GSO trains "
		       "(docs/uring.md)";
	if (got == TERN_DRIVER_SOCKETS)
		return "sockets: io_uring is not available here (the line above says why)";
	return tern_driver_name(got);
}
