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

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b" };

static double tx(double v, bool log_x)
{
	return log_x ? log10(v) : v;
}

int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel, bool log_x,
	     const struct plot_series *series, size_t n_series)
{
	double x0 = INFINITY, x1 = -INFINITY, y0 = 0, y1 = -INFINITY;
	for (size_t s = 0; s < n_series; s++)
		for (size_t i = 0; i < series[s].n; i++) {
			if (log_x && series[s].x[i] <= 0)
				return -EINVAL;
			double x = tx(series[s].x[i], log_x);
			x0 = fmin(x0, x);
			x1 = fmax(x1, x);
			y0 = fmin(y0, series[s].y[i]);
			y1 = fmax(y1, series[s].y[i]);
		}
	if (!(x1 > x0))
		x1 = x0 + 1;
	if (!(y1 > y0))
		y1 = y0 + 1;
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
	for (int i = 0; i <= 5; i++) {
		double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
		double xl = log_x ? pow(10, xv) : xv;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", PX(xv), MT, PX(xv), MT + ph);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n", PX(xv), MT + ph + 16, xl);
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, PY(yv), ML + pw, PY(yv));
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", ML - 6, PY(yv) + 4, yv);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%s</text>\n", ML + pw / 2, H - 12, xlabel,
		log_x ? " (log scale)" : "");
	fprintf(f, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", MT + ph / 2,
		ylabel);
	for (size_t s = 0; s < n_series; s++) {
		const char *c = colors[s % (sizeof(colors) / sizeof(colors[0]))];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
		for (size_t i = 0; i < series[s].n; i++)
			fprintf(f, "%.1f,%.1f ", PX(tx(series[s].x[i], log_x)), PY(series[s].y[i]));
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
