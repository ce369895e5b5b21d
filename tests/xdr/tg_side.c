/* The terngen side of the conformance tests: the same sample values in
 * terngen's types, encoded and decoded by its routines. */
#include <stdio.h>
#include <stdlib.h>

#include "alltypes.h"
#include "spec.h"

struct tg_store {
	struct tern_xdr_string names[4];
	point more[8];
	node nodes[5];
	point maybe;
};

static struct tern_xdr_string str(const char *s)
{
	return (struct tern_xdr_string){ s, (uint32_t)strlen(s) };
}

static void build(const struct spec *sp, everything *v, struct tg_store *st)
{
	memset(v, 0, sizeof(*v));
	v->i = sp->i;
	v->u = sp->u;
	v->h = sp->h;
	v->uh = sp->uh;
	v->b = sp->b;
	v->f = sp->f;
	v->d = sp->d;
	v->c = (color)sp->color;
	v->fixed = sp->fixed;
	v->var = (struct tern_xdr_bytes){ sp->var, sp->var_len };
	v->big = (struct tern_xdr_bytes){ sp->big, sp->big_len };
	v->s = str(sp->s);
	v->n = str(sp->n);
	memcpy(v->q, sp->q, sizeof(v->q));
	v->ints.len = sp->nints;
	v->ints.val = (int32_t *)(uintptr_t)sp->ints;
	for (int k = 0; k < 2; k++)
		v->pts[k].x = sp->pts[k][0], v->pts[k].y = sp->pts[k][1];
	for (uint32_t k = 0; k < sp->nmore; k++)
		st->more[k].x = sp->more[k][0], st->more[k].y = sp->more[k][1];
	v->more.len = sp->nmore;
	v->more.val = st->more;
	v->sh.kind = (color)sp->shape_kind;
	if (sp->shape_kind == 0)
		v->sh.shape_u.center.x = sp->cx, v->sh.shape_u.center.y = sp->cy;
	else
		v->sh.shape_u.sides = sp->sides;
	v->r.status = sp->result_status;
	if (sp->result_status == 0)
		v->r.result_u.value = sp->value;
	else if (sp->result_status != 1)
		v->r.result_u.why = str(sp->why);
	v->fl.on = sp->flag_on;
	if (sp->flag_on)
		v->fl.flag_u.level = sp->level;
	for (uint32_t k = 0; k < sp->list_n; k++) {
		st->nodes[k].id = sp->ids[k];
		st->nodes[k].label = str(sp->labels[k]);
		st->nodes[k].next = k + 1 < sp->list_n ? &st->nodes[k + 1] : NULL;
	}
	v->list = sp->list_n ? &st->nodes[0] : NULL;
	if (sp->has_maybe) {
		st->maybe.x = sp->mx;
		st->maybe.y = sp->my;
		v->maybe = &st->maybe;
	}
	for (uint32_t k = 0; k < sp->nnames; k++)
		st->names[k] = str(sp->names[k]);
	v->names.len = sp->nnames;
	v->names.val = st->names;
}

size_t tg_encode(uint64_t seed, uint8_t *buf, size_t cap)
{
	struct spec sp;
	spec_fill(&sp, seed);
	everything v;
	struct tg_store st;
	build(&sp, &v, &st);
	size_t n = everything_size(&v);
	if (n > cap)
		return 0;
	struct tern_xdr_enc x;
	tern_xdr_enc_init(&x, buf, cap);
	if (everything_encode(&x, &v) || (size_t)(x.p - buf) != n)
		return 0;
	return n;
}

static bool same(struct tern_xdr_string a, const char *b)
{
	return a.len == strlen(b) && !memcmp(a.data, b, a.len);
}

#define CHECK(cond, what)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "terngen decode: %s differs\n", what); \
			return 1;                                              \
		}                                                              \
	} while (0)

int tg_decode_check(uint64_t seed, const uint8_t *buf, size_t len)
{
	struct spec sp;
	spec_fill(&sp, seed);
	everything v;
	static uint8_t mem[16384];
	struct tern_xdr_arena arena = { mem, sizeof(mem), 0 };
	struct tern_xdr_dec x;
	tern_xdr_dec_init(&x, buf, len, &arena);
	int rc = everything_decode(&x, &v);
	if (rc) {
		fprintf(stderr, "terngen decode: %d\n", rc);
		return 2;
	}
	CHECK(x.p == buf + len, "the length");
	CHECK(v.i == sp.i && v.u == sp.u && v.h == sp.h && v.uh == sp.uh && v.b == sp.b, "an integer");
	CHECK(v.f == sp.f && v.d == sp.d && (int)v.c == sp.color, "a float or the enum");
	CHECK(!memcmp(v.fixed, sp.fixed, 5), "fixed opaque");
	CHECK(v.var.len == sp.var_len && !memcmp(v.var.data, sp.var, sp.var_len), "variable opaque");
	CHECK(v.big.len == sp.big_len && !memcmp(v.big.data, sp.big, sp.big_len), "blob");
	CHECK(v.big.len == 0 || (v.big.data >= buf && v.big.data + v.big.len <= buf + len), "blob is a view");
	CHECK(same(v.s, sp.s) && same(v.n, sp.n), "a string");
	CHECK(!memcmp(v.q, sp.q, sizeof(sp.q)), "the fixed array");
	CHECK(v.ints.len == sp.nints && (!sp.nints || !memcmp(v.ints.val, sp.ints, sp.nints * 4)), "ints");
	for (int k = 0; k < 2; k++)
		CHECK(v.pts[k].x == sp.pts[k][0] && v.pts[k].y == sp.pts[k][1], "pts");
	CHECK(v.more.len == sp.nmore, "more's length");
	for (uint32_t k = 0; k < sp.nmore; k++)
		CHECK(v.more.val[k].x == sp.more[k][0] && v.more.val[k].y == sp.more[k][1], "more");
	CHECK((int)v.sh.kind == sp.shape_kind, "shape's kind");
	if (sp.shape_kind == 0)
		CHECK(v.sh.shape_u.center.x == sp.cx && v.sh.shape_u.center.y == sp.cy, "shape's center");
	else
		CHECK(v.sh.shape_u.sides == sp.sides, "shape's sides");
	CHECK(v.r.status == sp.result_status, "result's status");
	if (sp.result_status == 0)
		CHECK(v.r.result_u.value == sp.value, "result's value");
	else if (sp.result_status != 1)
		CHECK(same(v.r.result_u.why, sp.why), "result's why");
	CHECK(v.fl.on == sp.flag_on && (!sp.flag_on || v.fl.flag_u.level == sp.level), "flag");
	node *nd = v.list;
	for (uint32_t k = 0; k < sp.list_n; k++, nd = nd->next)
		CHECK(nd && nd->id == sp.ids[k] && same(nd->label, sp.labels[k]), "the list");
	CHECK(nd == NULL, "the list's end");
	CHECK(!v.maybe == !sp.has_maybe && (!v.maybe || (v.maybe->x == sp.mx && v.maybe->y == sp.my)), "maybe");
	CHECK(v.names.len == sp.nnames, "names' length");
	for (uint32_t k = 0; k < sp.nnames; k++)
		CHECK(same(v.names.val[k], sp.names[k]), "names");
	return 0;
}
