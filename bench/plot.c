#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define W 720
#define H 440
#define ML 70
#define MR 170
#define MT 40
#define MB 55
#define PCT_MAX 99.999 /* a percentile axis ends here: 100 is infinitely far */

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b" };

/* Where a value sits along its axis. */
static double tx(enum plot_axis a, double v)
{
	switch (a) {
	case PLOT_LOG:
		return log10(v);
	case PLOT_PCT_TAIL:
		return -log10(1.0 - fmin(fmax(v, 0.0), PCT_MAX) / 100.0);
	default:
		return v;
	}
}

static bool valid(enum plot_axis a, double v)
{
	return isfinite(v) && (a != PLOT_LOG || v > 0);
}

size_t plot_ticks(enum plot_axis a, double lo, double hi, double *out, size_t max)
{
	size_t n = 0;
	if (!(hi >= lo) || !max)
		return 0;
	if (a == PLOT_PCT_TAIL) {
		static const double p[] = { 0, 50, 90, 99, 99.9, 99.99, 99.999 };
		for (size_t i = 0; i < sizeof(p) / sizeof(p[0]) && n < max; i++)
			if (p[i] >= lo - 1e-9 && p[i] <= hi + 1e-9)
				out[n++] = p[i];
		return n;
	}
	if (a == PLOT_LOG) {
		if (!(lo > 0))
			return 0;
		double d0 = floor(log10(lo)), d1 = ceil(log10(hi));
		bool fine = d1 - d0 <= 3; /* 1, 2, 5 in each decade; only powers of ten beyond */
		for (double d = d0; d <= d1 && n < max; d++)
			for (int m = 0; m < 3 && n < max; m++) {
				if (m && !fine)
					break;
				double v = (m == 0 ? 1 : m == 1 ? 2 : 5) * pow(10, d);
				if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
					out[n++] = v;
			}
		return n;
	}
	double span = hi - lo;
	if (span <= 0)
		span = fabs(hi) > 0 ? fabs(hi) : 1;
	/* The 1-2-5 step that gives closest to five intervals. */
	double mag = pow(10, floor(log10(span / 5))), step = mag, best = INFINITY;
	for (int k = 0; k < 4; k++) {
		double c = (k == 0 ? 1 : k == 1 ? 2 : k == 2 ? 5 : 10) * mag;
		double miss = fabs(log(span / c / 5));
		if (miss < best) {
			best = miss;
			step = c;
		}
	}
	for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < max; v += step)
		out[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	return n;
}

static void label(char *buf, size_t len, enum plot_axis a, double v)
{
	(void)a;
	snprintf(buf, len, "%.10g", v); /* ticks are round: no digits to cut */
}

int plot_svg_axes(const char *path, const char *title, const char *xlabel, const char *ylabel, enum plot_axis xa,
		  enum plot_axis ya, const struct plot_series *series, size_t n_series)
{
	double vx0 = INFINITY, vx1 = -INFINITY, vy0 = INFINITY, vy1 = -INFINITY;
	for (size_t s = 0; s < n_series; s++)
		for (size_t i = 0; i < series[s].n; i++) {
			if (!valid(xa, series[s].x[i]) || !valid(ya, series[s].y[i]))
				return -EINVAL;
			vx0 = fmin(vx0, series[s].x[i]);
			vx1 = fmax(vx1, series[s].x[i]);
			vy0 = fmin(vy0, series[s].y[i]);
			vy1 = fmax(vy1, series[s].y[i]);
		}
	if (!(vx1 >= vx0))
		vx0 = vx1 = xa == PLOT_LINEAR ? 0 : 1;
	if (!(vy1 >= vy0))
		vy0 = vy1 = ya == PLOT_LINEAR ? 0 : 1;
	/* A linear y axis starts at 0 unless values go below; a log axis
	 * reaches out to the decades around the data. */
	if (ya == PLOT_LINEAR && vy0 > 0)
		vy0 = 0;
	if (xa == PLOT_PCT_TAIL)
		vx1 = fmin(vx1, PCT_MAX);
	double x0 = tx(xa, vx0), x1 = tx(xa, vx1), y0 = tx(ya, vy0), y1 = tx(ya, vy1);
	if (ya == PLOT_LOG) {
		y0 = floor(y0);
		y1 = ceil(y1);
	}
	if (xa == PLOT_LOG) {
		x0 = floor(x0);
		x1 = ceil(x1);
	}
	if (!(x1 > x0))
		x1 = x0 + 1;
	if (!(y1 > y0))
		y1 = y0 + 1;
	if (ya == PLOT_LINEAR)
		y1 += (y1 - y0) * 0.05;
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
		   "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
	fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>\n", ML, title);
	int pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + ph - ((v) - y0) / (y1 - y0) * ph)
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", ML, MT, pw, ph);
	double t[64];
	char buf[32];
	double lo = xa == PLOT_LOG ? pow(10, x0) : xa == PLOT_PCT_TAIL ? vx0 : x0;
	double hi = xa == PLOT_LOG ? pow(10, x1) : xa == PLOT_PCT_TAIL ? vx1 : x1;
	size_t nt = plot_ticks(xa, lo, hi, t, 64);
	for (size_t i = 0; i < nt; i++) {
		double p = PX(tx(xa, t[i]));
		label(buf, sizeof(buf), xa, t[i]);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", p, MT, p, MT + ph);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", p, MT + ph + 16, buf);
	}
	lo = ya == PLOT_LOG ? pow(10, y0) : y0;
	hi = ya == PLOT_LOG ? pow(10, y1) : y1;
	nt = plot_ticks(ya, lo, hi, t, 64);
	for (size_t i = 0; i < nt; i++) {
		double p = PY(tx(ya, t[i]));
		label(buf, sizeof(buf), ya, t[i]);
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, p, ML + pw, p);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ML - 6, p + 4, buf);
	}
	const char *xs = xa == PLOT_LOG ? " (log scale)" : xa == PLOT_PCT_TAIL ? " (scale: 1/(1-p))" : "";
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%s</text>\n", ML + pw / 2, H - 12, xlabel, xs);
	fprintf(f, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s%s</text>\n", MT + ph / 2,
		ylabel, ya == PLOT_LOG ? " (log scale)" : "");
	for (size_t s = 0; s < n_series; s++) {
		const char *c = colors[s % (sizeof(colors) / sizeof(colors[0]))];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
		for (size_t i = 0; i < series[s].n; i++)
			fprintf(f, "%.1f,%.1f ", PX(tx(xa, series[s].x[i])), PY(tx(ya, series[s].y[i])));
		fprintf(f, "\"/>\n");
		int ly = MT + 14 + (int)s * 18;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n",
			W - MR + 12, ly - 4, W - MR + 32, ly - 4, c);
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", W - MR + 38, ly, series[s].name);
	}
#undef PX
#undef PY
	fprintf(f, "</svg>\n");
	return fclose(f) ? -errno : 0;
}

int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, bool log_x,
	     const struct plot_series *series, size_t n_series)
{
	return plot_svg_axes(path, title, xlabel, ylabel, log_x ? PLOT_LOG : PLOT_LINEAR, PLOT_LINEAR, series,
			     n_series);
}
