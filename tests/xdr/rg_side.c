/* The rpcgen side of the conformance tests: sample values in rpcgen's
 * types, encoded and decoded by its routines over libtirpc's xdrmem. */
#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>

#include "alltypes_rg.h"
#include "spec.h"

/* Storage for one value's pointed-to parts. */
struct rg_store {
	char s[33], n[33], why[65], labels[5][33], names[4][33];
	char *namep[4];
	point more[8];
	node nodes[5];
	point maybe;
	char var[16], big[300];
	int ints[8];
};

static void build(const struct spec *sp, everything *v, struct rg_store *st)
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
	memcpy(v->fixed, sp->fixed, 5);
	memcpy(st->var, sp->var, sp->var_len);
	v->var.var_len = sp->var_len;
	v->var.var_val = st->var;
	memcpy(st->big, sp->big, sp->big_len);
	v->big.blob_len = sp->big_len;
	v->big.blob_val = st->big;
	strcpy(st->s, sp->s);
	strcpy(st->n, sp->n);
	v->s = st->s;
	v->n = st->n;
	memcpy(v->q, sp->q, sizeof(v->q));
	memcpy(st->ints, sp->ints, sizeof(st->ints));
	v->ints.ints_len = sp->nints;
	v->ints.ints_val = st->ints;
	for (int k = 0; k < 2; k++)
		v->pts[k].x = sp->pts[k][0], v->pts[k].y = sp->pts[k][1];
	for (uint32_t k = 0; k < sp->nmore; k++)
		st->more[k].x = sp->more[k][0], st->more[k].y = sp->more[k][1];
	v->more.more_len = sp->nmore;
	v->more.more_val = st->more;
	v->sh.kind = (color)sp->shape_kind;
	if (sp->shape_kind == 0)
		v->sh.shape_u.center.x = sp->cx, v->sh.shape_u.center.y = sp->cy;
	else
		v->sh.shape_u.sides = sp->sides;
	v->r.status = sp->result_status;
	strcpy(st->why, sp->why);
	if (sp->result_status == 0)
		v->r.result_u.value = sp->value;
	else if (sp->result_status != 1)
		v->r.result_u.why = st->why;
	v->fl.on = sp->flag_on;
	if (sp->flag_on)
		v->fl.flag_u.level = sp->level;
	for (uint32_t k = 0; k < sp->list_n; k++) {
		strcpy(st->labels[k], sp->labels[k]);
		st->nodes[k].id = sp->ids[k];
		st->nodes[k].label = st->labels[k];
		st->nodes[k].next = k + 1 < sp->list_n ? &st->nodes[k + 1] : NULL;
	}
	v->list = sp->list_n ? &st->nodes[0] : NULL;
	if (sp->has_maybe) {
		st->maybe.x = sp->mx;
		st->maybe.y = sp->my;
		v->maybe = &st->maybe;
	}
	for (uint32_t k = 0; k < sp->nnames; k++) {
		strcpy(st->names[k], sp->names[k]);
		st->namep[k] = st->names[k];
	}
	v->names.names_len = sp->nnames;
	v->names.names_val = st->namep;
}

size_t rg_encode(uint64_t seed, uint8_t *buf, size_t cap)
{
	struct spec sp;
	spec_fill(&sp, seed);
	everything v;
	struct rg_store st;
	build(&sp, &v, &st);
	XDR x;
	xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
	size_t n = xdr_everything(&x, &v) ? xdr_getpos(&x) : 0;
	xdr_destroy(&x);
	return n;
}

#define CHECK(cond, what)                    \
	do {                                 \
		if (!(cond)) {               \
			fprintf(stderr, "rpcgen decode: %s differs\n", what); \
			rc = 1;              \
			goto out;            \
		}                            \
	} while (0)

int rg_decode_check(uint64_t seed, const uint8_t *buf, size_t len)
{
	struct spec sp;
	spec_fill(&sp, seed);
	everything v;
	memset(&v, 0, sizeof(v));
	XDR x;
	xdrmem_create(&x, (char *)(uintptr_t)buf, (u_int)len, XDR_DECODE);
	int rc = 0;
	if (!xdr_everything(&x, &v)) {
		xdr_destroy(&x);
		fprintf(stderr, "rpcgen decode: xdr_everything failed\n");
		return 2;
	}
	CHECK(xdr_getpos(&x) == len, "the length");
	CHECK(v.i == sp.i && v.u == sp.u && v.h == sp.h && v.uh == sp.uh && !v.b == !sp.b, "an integer");
	CHECK(v.f == sp.f && v.d == sp.d && (int)v.c == sp.color, "a float or the enum");
	CHECK(!memcmp(v.fixed, sp.fixed, 5), "fixed opaque");
	CHECK(v.var.var_len == sp.var_len && (!sp.var_len || !memcmp(v.var.var_val, sp.var, sp.var_len)), "variable opaque");
	CHECK(v.big.blob_len == sp.big_len && (!sp.big_len || !memcmp(v.big.blob_val, sp.big, sp.big_len)), "blob");
	CHECK(!strcmp(v.s, sp.s) && !strcmp(v.n, sp.n), "a string");
	CHECK(!memcmp(v.q, sp.q, sizeof(sp.q)), "the fixed array");
	CHECK(v.ints.ints_len == sp.nints && (!sp.nints || !memcmp(v.ints.ints_val, sp.ints, sp.nints * 4)), "ints");
	for (int k = 0; k < 2; k++)
		CHECK(v.pts[k].x == sp.pts[k][0] && v.pts[k].y == sp.pts[k][1], "pts");
	CHECK(v.more.more_len == sp.nmore, "more's length");
	for (uint32_t k = 0; k < sp.nmore; k++)
		CHECK(v.more.more_val[k].x == sp.more[k][0] && v.more.more_val[k].y == sp.more[k][1], "more");
	CHECK((int)v.sh.kind == sp.shape_kind, "shape's kind");
	if (sp.shape_kind == 0)
		CHECK(v.sh.shape_u.center.x == sp.cx && v.sh.shape_u.center.y == sp.cy, "shape's center");
	else
		CHECK(v.sh.shape_u.sides == sp.sides, "shape's sides");
	CHECK(v.r.status == sp.result_status, "result's status");
	if (sp.result_status == 0)
		CHECK(v.r.result_u.value == sp.value, "result's value");
	else if (sp.result_status != 1)
		CHECK(!strcmp(v.r.result_u.why, sp.why), "result's why");
	CHECK(!v.fl.on == !sp.flag_on && (!sp.flag_on || v.fl.flag_u.level == sp.level), "flag");
	node *nd = v.list;
	for (uint32_t k = 0; k < sp.list_n; k++, nd = nd->next)
		CHECK(nd && nd->id == sp.ids[k] && !strcmp(nd->label, sp.labels[k]), "the list");
	CHECK(nd == NULL, "the list's end");
	CHECK(!v.maybe == !sp.has_maybe && (!v.maybe || (v.maybe->x == sp.mx && v.maybe->y == sp.my)), "maybe");
	CHECK(v.names.names_len == sp.nnames, "names' length");
	for (uint32_t k = 0; k < sp.nnames; k++)
		CHECK(!strcmp(v.names.names_val[k], sp.names[k]), "names");
out:
	xdr_free((xdrproc_t)xdr_everything, (char *)&v);
	xdr_destroy(&x);
	return rc;
}
