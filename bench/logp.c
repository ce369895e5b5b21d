#include "logp.h"

#include <math.h>

int fit_linear(const double *x, const double *y, size_t n, struct linear_fit *out)
{
	if (n < 2)
		return -1;
	double sx = 0, sy = 0;
	for (size_t i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
	}
	double mx = sx / (double)n, my = sy / (double)n, sxx = 0, sxy = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx == 0)
		return -1;
	out->slope = sxy / sxx;
	out->intercept = my - out->slope * mx;
	out->r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1.0;
	return 0;
}

void running_add(struct running *r, double v)
{
	/* Welford: stable for long runs. */
	r->n++;
	double d = v - r->mean;
	r->mean += d / (double)r->n;
	r->m2 += d * (v - r->mean);
}

double running_sd(const struct running *r)
{
	return r->n > 1 ? sqrt(r->m2 / (double)(r->n - 1)) : 0.0;
}

double running_ci_rel(const struct running *r)
{
	if (r->n < 2 || r->mean == 0)
		return INFINITY;
	return 1.96 * running_sd(r) / sqrt((double)r->n) / fabs(r->mean);
}

void logp_derive(struct logp_point *p, bool separable)
{
	p->one_way = p->rtt / 2.0 - p->o_r;
	p->L = p->one_way - p->o_s;
	/* A negative L says the method's assumption failed, whatever the path. */
	p->L_separable = separable && p->L >= 0;
	p->one_way_ok = p->one_way >= 0;
}

int logp_fit_G(const struct logp_point *pts, size_t n, double *G, double *g0)
{
	double x[64], y[64];
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++) {
		x[i] = pts[i].size;
		y[i] = pts[i].g;
	}
	struct linear_fit f;
	if (fit_linear(x, y, n, &f))
		return -1;
	*G = f.slope;
	*g0 = f.intercept;
	return 0;
}
