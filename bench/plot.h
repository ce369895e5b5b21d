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

/* 0 or -errno. A log x axis needs every x > 0. */
int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, bool log_x,
	     const struct plot_series *series, size_t n_series);

#endif
