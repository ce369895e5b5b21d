/* LogP/LogGP arithmetic (Culler et al. 1996; Alexandrov et al. 1995 for G;
 * Kielmann et al. 2000 for o_r; Netgauge for the fit of g over size). The
 * measuring lives in bench_logp.c; this is the part that can be tested on
 * synthetic data. */
#ifndef TERN_LOGP_H
#define TERN_LOGP_H

#include <stdbool.h>
#include <stddef.h>

struct linear_fit {
	double intercept, slope, r2;
};

/* Least squares y = intercept + slope * x; needs n >= 2 distinct x. */
int fit_linear(const double *x, const double *y, size_t n, struct linear_fit *out);

/* A running mean with its confidence interval, to repeat a measurement
 * until it is tight. */
struct running {
	size_t n;
	double mean, m2;
};

void running_add(struct running *r, double v);
double running_sd(const struct running *r);
/* Half width of the 95% confidence interval over the mean (relative). */
double running_ci_rel(const struct running *r);

/* One message size's parameters, all in ns. */
struct logp_point {
	double size;
	double rtt;    /* round trip of a ping-pong */
	double o_s;    /* inside the send call */
	double o_r;    /* inside the receive call, message already there */
	double g;      /* per message when flooding back to back */
	double one_way; /* rtt / 2 - o_r: from the send call to the message's arrival, o_s + L */
	double L;      /* rtt / 2 - o_s - o_r */
	/* L apart from o_s: false where one call does both (loopback, where
	 * the sender's system call runs the receiver's network stack). */
	bool L_separable;
	bool one_way_ok; /* one_way >= 0: o_r measured alone did not exceed half the round trip */
};

/* Fill one_way and L from rtt, o_s and o_r: a ping-pong is o_s + L + o_r
 * each way. separable: whether the path lets L stand apart from o_s. */
void logp_derive(struct logp_point *p, bool separable);
/* G (ns per byte) and g at size 0, from g over size (LogGP). */
int logp_fit_G(const struct logp_point *pts, size_t n, double *G, double *g0);

#endif
