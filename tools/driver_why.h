/* The one line tern-echo and tern-bench print for --driver auto: which
 * kernel driver the engine got for its poll mode, and why. */
#ifndef TERN_TOOLS_DRIVER_WHY_H
#define TERN_TOOLS_DRIVER_WHY_H

#include "tern/tern.h"

const char *driver_auto_why(enum tern_poll_mode mode, enum tern_driver_kind got);

#endif
