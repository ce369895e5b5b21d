/* Line charts as SVG, written directly (no plotting library needed). */
#ifndef TERN_PLOT_H
#define TERN_PLOT_H

#include <stdbool.h>
#include <stddef.h>

struct plot_series {
	const char *name;
	const double *x, *y;
	size_t n;
};

enum plot_axis {
	PLOT_LINEAR,
	PLOT_LOG,      /* every value > 0 */
	PLOT_PCT_TAIL, /* percentiles 0..100, spaced by log10(1/(1-p)): 90, 99, 99.9 equally apart */
};

/* 0 or -errno. A log x axis needs every x > 0. The y axis is linear. */
int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, bool log_x,
	     const struct plot_series *series, size_t n_series);
/* The same with the kind of each axis given. */
int plot_svg_axes(const char *path, const char *title, const char *xlabel, const char *ylabel, enum plot_axis xa,
		  enum plot_axis ya, const struct plot_series *series, size_t n_series);

/* Tick values for an axis over [lo, hi], into out (at most max): round
 * 1-2-5 steps on a linear axis, 1-2-5 in each decade on a log one (only
 * powers of ten when there are many decades), 0, 50, 90, 99, 99.9, ... on
 * a percentile one. Returns the count. */
size_t plot_ticks(enum plot_axis a, double lo, double hi, double *out, size_t max);

#endif
