/* Congestion-control algorithms an engine can run, chosen at run time. */
#ifndef TERN_CC_H
#define TERN_CC_H

#include "export.h"

enum tern_cc_algo {
	TERN_CC_AIMD = 0,   /* NewReno-like: slow start, additive increase, halve on loss */
	TERN_CC_OFF = 1,    /* no congestion window: only the receive window limits */
	TERN_CC_TIMELY = 2, /* rate from the RTT gradient (Mittal et al. 2015), paced */
	TERN_CC_SWIFT = 3,  /* window from a delay target (Kumar et al. 2020), paced below one packet */
};

/* "aimd", "off", "timely", "swift"; NULL for an unknown value. */
TERN_API const char *tern_cc_name(enum tern_cc_algo algo);
/* Parse a name as printed by tern_cc_name; negative TERN_EINVAL if unknown. */
TERN_API int tern_cc_parse(const char *name);

#endif
