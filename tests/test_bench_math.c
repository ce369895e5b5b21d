/* tern-bench's arithmetic: the histogram against an exact oracle, and the
 * LogP fits on synthetic data with known parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "bench/hist.h"
#include "bench/logp.h"
#include "bench/plot.h"
#include "util/rng.h"

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The same rank rule as hist_pct: smallest value with >= p% at or below. */
static uint64_t oracle(const uint64_t *sorted, size_t n, double p)
{
	if (p >= 100)
		return sorted[n - 1];
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[rank ? rank - 1 : 0];
}

static void check_distribution(const char *name, uint64_t (*draw)(struct tni_rng *), size_t n)
{
	static struct hist h;
	hist_init(&h);
	uint64_t *v = malloc(n * sizeof(*v));
	struct tni_rng r;
	tni_rng_seed(&r, 1234);
	for (size_t i = 0; i < n; i++) {
		v[i] = draw(&r);
		hist_add(&h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp);
	const double ps[] = { 0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	for (unsigned i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double want = (double)oracle(v, n, ps[i]), got = (double)hist_pct(&h, ps[i]);
		double err = want ? fabs(got - want) / want : fabs(got);
		cr_assert_leq(err, 0.01, "%s p%g: histogram %.0f, exact %.0f (%.3f%%)", name, ps[i], got, want,
			      err * 100);
	}
	cr_assert_eq(h.count, n);
	cr_assert_eq(h.min, v[0]);
	cr_assert_eq(h.max, v[n - 1]);
	free(v);
}

static uint64_t uniform_small(struct tni_rng *r) { return tni_rng_below(r, 1000); }
static uint64_t latency_like(struct tni_rng *r)
{
	/* log-normal around 12 us with a long tail */
	double u1 = tni_rng_double(r) + 1e-12, u2 = tni_rng_double(r);
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	return (uint64_t)(12000.0 * exp(0.5 * z));
}
static uint64_t wide(struct tni_rng *r) { return 1ull << tni_rng_below(r, 40) | tni_rng_below(r, 1u << 20); }

Test(hist, percentiles_within_one_percent_of_exact)
{
	check_distribution("uniform 0..1000", uniform_small, 100000);
	check_distribution("latency-like", latency_like, 200000);
	check_distribution("1 ns .. 1000 s", wide, 100000);
}

Test(hist, merge_equals_adding_everything)
{
	static struct hist a, b, all;
	hist_init(&a);
	hist_init(&b);
	hist_init(&all);
	for (uint64_t v = 1; v < 1000000; v = v * 3 / 2 + 1) {
		hist_add(v % 2 ? &a : &b, v);
		hist_add(&all, v);
	}
	hist_merge(&a, &b);
	cr_assert_eq(a.count, all.count);
	cr_assert_eq(hist_pct(&a, 50), hist_pct(&all, 50));
	cr_assert_eq(hist_pct(&a, 99), hist_pct(&all, 99));
	cr_assert_eq(a.min, all.min);
	cr_assert_eq(a.max, all.max);
}

Test(hist, empty_and_single)
{
	static struct hist h;
	hist_init(&h);
	cr_assert_eq(hist_pct(&h, 50), 0);
	hist_add(&h, 123456789);
	cr_assert_eq(hist_pct(&h, 0), 123456789);
	cr_assert_eq(hist_pct(&h, 50), 123456789);
	cr_assert_eq(hist_pct(&h, 100), 123456789);
}

static double noise(struct tni_rng *r, double rel)
{
	return 1.0 + rel * (2 * tni_rng_double(r) - 1);
}

/* Where the send call runs the receiver's stack (loopback), or where the
 * derivation gives a negative L, no L is reported: only o_s + L. */
Test(logp, no_negative_or_inseparable_L_is_reported)
{
	struct logp_point p = { .rtt = 16000, .o_s = 7000, .o_r = 6400 };
	logp_derive(&p, true);
	cr_assert_float_eq(p.one_way, 1600, 1e-9);
	cr_assert(!p.L_separable, "L = %.0f < 0 is not a latency", p.L);
	struct logp_point q = { .rtt = 20000, .o_s = 2000, .o_r = 3000 };
	logp_derive(&q, false);
	cr_assert_float_eq(q.one_way, 7000, 1e-9);
	cr_assert(!q.L_separable);
	logp_derive(&q, true);
	cr_assert(q.L_separable);
	cr_assert_float_eq(q.L, 5000, 1e-9);
}

/* A synthetic network with known LogGP parameters: measuring it the way
 * bench_logp.c does (medians of noisy samples, then the derivations and the
 * fit) must give them back within 5%. */
Test(logp, synthetic_parameters_are_recovered)
{
	const double L = 4000, o_s = 900, o_r = 1300, g0 = 1500, G = 0.08;
	const double sizes[] = { 64, 256, 1024, 4096, 16384, 65536 };
	struct logp_point pts[6];
	struct tni_rng r;
	tni_rng_seed(&r, 5);
	for (int i = 0; i < 6; i++) {
		struct running rtt = { 0 }, os = { 0 }, orr = { 0 }, g = { 0 };
		double s = sizes[i];
		for (int k = 0; k < 2000; k++) {
			running_add(&rtt, 2 * (o_s + L + G * s + o_r) * noise(&r, 0.2));
			running_add(&os, o_s * noise(&r, 0.2));
			running_add(&orr, o_r * noise(&r, 0.2));
			running_add(&g, (g0 + G * s) * noise(&r, 0.2));
		}
		cr_assert_lt(running_ci_rel(&g), 0.02);
		pts[i] = (struct logp_point){ .size = s, .rtt = rtt.mean, .o_s = os.mean, .o_r = orr.mean, .g = g.mean };
		logp_derive(&pts[i], true);
		cr_assert(pts[i].L_separable);
		/* L grows with size by G per byte (the wire time of the payload). */
		double want_L = L + G * s;
		cr_assert_lt(fabs(pts[i].L - want_L) / want_L, 0.05, "size %g: L %.0f, want %.0f", s, pts[i].L, want_L);
		cr_assert_lt(fabs(pts[i].o_s - o_s) / o_s, 0.05);
		cr_assert_lt(fabs(pts[i].o_r - o_r) / o_r, 0.05);
	}
	double fG, fg0;
	cr_assert_eq(logp_fit_G(pts, 6, &fG, &fg0), 0);
	cr_assert_lt(fabs(fG - G) / G, 0.05, "G %.4f, want %.4f", fG, G);
	cr_assert_lt(fabs(fg0 - g0) / g0, 0.05, "g %.0f, want %.0f", fg0, g0);
}

Test(logp, linear_fit_exact_and_degenerate)
{
	double x[] = { 1, 2, 3, 4 }, y[] = { 3, 5, 7, 9 };
	struct linear_fit f;
	cr_assert_eq(fit_linear(x, y, 4, &f), 0);
	cr_assert_float_eq(f.slope, 2.0, 1e-12);
	cr_assert_float_eq(f.intercept, 1.0, 1e-12);
	cr_assert_float_eq(f.r2, 1.0, 1e-12);
	double same[] = { 2, 2, 2 };
	cr_assert_neq(fit_linear(same, y, 3, &f), 0);
	cr_assert_neq(fit_linear(x, y, 1, &f), 0);
}

static void ticks_are(enum plot_axis a, double lo, double hi, const double *want, size_t n)
{
	double t[64];
	size_t got = plot_ticks(a, lo, hi, t, 64);
	cr_assert_eq(got, n, "[%g, %g]: %zu ticks, want %zu", lo, hi, got, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(t[i], want[i], fabs(want[i]) * 1e-9 + 1e-12, "tick %zu: %g, want %g", i, t[i], want[i]);
}

/* Ticks fall on round 1-2-5 values, not on fifths of the data's range
 * (which gave 9.53 and 2.08e+03). */
Test(plot, ticks_are_round_on_every_axis)
{
	ticks_are(PLOT_LINEAR, 0, 9.53, (double[]){ 0, 2, 4, 6, 8 }, 5);
	ticks_are(PLOT_LINEAR, 0, 2080, (double[]){ 0, 500, 1000, 1500, 2000 }, 5);
	ticks_are(PLOT_LINEAR, -3, 7.9, (double[]){ -2, 0, 2, 4, 6 }, 5);
	ticks_are(PLOT_LINEAR, 0.1, 0.35, (double[]){ 0.1, 0.15, 0.2, 0.25, 0.3, 0.35 }, 6);
	ticks_are(PLOT_LOG, 10, 1000, (double[]){ 10, 20, 50, 100, 200, 500, 1000 }, 7);
	ticks_are(PLOT_LOG, 1, 1e6, (double[]){ 1, 10, 100, 1000, 1e4, 1e5, 1e6 }, 7);
	ticks_are(PLOT_PCT_TAIL, 0, 99.99, (double[]){ 0, 50, 90, 99, 99.9, 99.99 }, 6);
	double t[64];
	for (double hi = 0.7; hi < 1e7; hi *= 3.7) {
		size_t n = plot_ticks(PLOT_LINEAR, 0, hi, t, 64);
		cr_assert(n >= 3 && n <= 11, "[0, %g]: %zu ticks", hi, n);
		double step = t[1] - t[0], mag = pow(10, floor(log10(step) + 1e-9)), m = step / mag;
		cr_assert(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6, "[0, %g]: step %g", hi, step);
	}
}
