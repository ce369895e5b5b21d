/* Choosing an algorithm, and "off". */
#include "cc.h"

#include <string.h>

#include "tern/error.h"

static const struct {
	const char *name;
	const struct tni_cc_ops *ops;
} algos[] = {
	[TERN_CC_AIMD] = { "aimd", &tni_cc_aimd_ops },
	[TERN_CC_OFF] = { "off", &tni_cc_off_ops },
	[TERN_CC_TIMELY] = { "timely", &tni_cc_timely_ops },
	[TERN_CC_SWIFT] = { "swift", &tni_cc_swift_ops },
};

const char *tern_cc_name(enum tern_cc_algo algo)
{
	if ((unsigned)algo >= sizeof(algos) / sizeof(algos[0]))
		return NULL;
	return algos[algo].name;
}

int tern_cc_parse(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(algos) / sizeof(algos[0]); i++)
		if (strcmp(name, algos[i].name) == 0)
			return (int)i;
	return TERN_EINVAL;
}

int tni_cc_init(struct tni_cc *cc, enum tern_cc_algo algo, const struct tni_cc_params *p)
{
	if ((unsigned)algo >= sizeof(algos) / sizeof(algos[0]))
		return TERN_EINVAL;
	memset(cc, 0, sizeof(*cc));
	cc->ops = algos[algo].ops;
	cc->p = *p;
	cc->ops->init(cc);
	return 0;
}

static uint32_t off_window(const struct tni_cc *cc) { return cc->p.max_cwnd; }
static void off_init(struct tni_cc *cc) { cc->window = off_window(cc); }
static void off_ack(struct tni_cc *cc, uint32_t acked, uint64_t now) { (void)cc; (void)acked; (void)now; }
static void off_rtt(struct tni_cc *cc, uint64_t rtt, uint64_t f, uint64_t now) { (void)cc; (void)rtt; (void)f; (void)now; }
static void off_event(struct tni_cc *cc, uint64_t now) { (void)cc; (void)now; }
static uint64_t off_rate(const struct tni_cc *cc) { (void)cc; return 0; }

const struct tni_cc_ops tni_cc_off_ops = {
	.name = "off",
	.init = off_init,
	.on_ack = off_ack,
	.on_rtt = off_rtt,
	.on_loss = off_event,
	.on_timeout = off_event,
	.window = off_window,
	.pacing_rate = off_rate,
};
