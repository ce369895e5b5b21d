/* Driving engines on a simulated network: poll until idle, then jump the
 * virtual clock to the next packet arrival or timer. */
#include "tern/engine.h"
#include "tern/error.h"
#include "tern/sim.h"

int tern_sim_run(struct tern_sim_net *net, struct tern_engine **engines, size_t n,
		 uint64_t until_ns, bool (*done)(void *arg), void *arg)
{
	for (;;) {
		if (done && done(arg))
			return 0;
		int work = 0;
		for (size_t i = 0; i < n; i++) {
			int r = tern_engine_poll(engines[i]);
			if (r < 0)
				return r;
			work += r;
		}
		if (work)
			continue;
		if (done && done(arg))
			return 0;
		uint64_t now = tern_sim_now(net);
		uint64_t next = tern_sim_next_event(net);
		for (size_t i = 0; i < n; i++) {
			uint64_t d = tern_engine_next_deadline(engines[i]);
			if (d < next)
				next = d;
		}
		if (next == UINT64_MAX || next > until_ns) {
			tern_sim_advance(net, until_ns);
			return TERN_EAGAIN;
		}
		tern_sim_advance(net, next > now ? next : now + 1);
	}
}
