/* Worker threads for long handlers. Each worker has its own pair of
 * single-producer rings with the engine thread, so there are no locks; an
 * idle worker sleeps on a semaphore. */
#include <sched.h>
#include <stdlib.h>

#include "rpc_internal.h"
#include "tern/error.h"

static void *worker_main(void *arg)
{
	struct rpc_worker *w = arg;
	struct tern_rpc *rpc = w->rpc;
	for (;;) {
		sem_wait(&w->wake);
		if (atomic_load(&rpc->stopping))
			break;
		struct tern_rpc_req *req;
		while ((req = tni_spsc_pop(&w->in))) {
			if (atomic_load_explicit(&req->cancelled, memory_order_acquire)) {
				/* Cancelled or expired while queued: skip the handler;
				 * the engine thread lets the request go. */
				req->resp = NULL;
				req->state = REQ_QUEUED;
				tni_rpc_workers_answer(rpc, req);
				continue;
			}
			const struct rpc_handler *hd = tni_rpc_handler_get(rpc, req->type);
			hd->fn(req, hd->arg);
		}
	}
	return NULL;
}

int tni_rpc_workers_start(struct tern_rpc *rpc)
{
	if (!rpc->cfg.workers)
		return 0;
	rpc->workers = calloc(rpc->cfg.workers, sizeof(*rpc->workers));
	if (!rpc->workers)
		return TERN_ENOMEM;
	for (unsigned i = 0; i < rpc->cfg.workers; i++) {
		struct rpc_worker *w = &rpc->workers[i];
		w->rpc = rpc;
		sem_init(&w->wake, 0, 0);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			return TERN_ENOMEM;
		w->started = true;
	}
	return 0;
}

void tni_rpc_workers_stop(struct tern_rpc *rpc)
{
	if (!rpc->workers)
		return;
	atomic_store(&rpc->stopping, true);
	for (unsigned i = 0; i < rpc->cfg.workers; i++) {
		struct rpc_worker *w = &rpc->workers[i];
		if (w->started) {
			sem_post(&w->wake);
			pthread_join(w->thread, NULL);
			w->started = false;
		}
		sem_destroy(&w->wake);
	}
}

bool tni_rpc_workers_submit(struct tern_rpc *rpc, struct tern_rpc_req *req)
{
	for (unsigned k = 0; k < rpc->cfg.workers; k++) {
		unsigned i = rpc->next_worker++ % rpc->cfg.workers;
		if (tni_spsc_push(&rpc->workers[i].in, req)) {
			req->worker_idx = i;
			sem_post(&rpc->workers[i].wake);
			return true;
		}
	}
	return false;
}

void tni_rpc_workers_answer(struct tern_rpc *rpc, struct tern_rpc_req *req)
{
	struct rpc_worker *w = &rpc->workers[req->worker_idx];
	while (!tni_spsc_push(&w->out, req))
		sched_yield(); /* the engine drains this ring every poll */
}

void tni_rpc_workers_drain(void *arg)
{
	struct tern_rpc *rpc = arg;
	for (unsigned i = 0; rpc->workers && i < rpc->cfg.workers; i++) {
		struct tern_rpc_req *req;
		while ((req = tni_spsc_pop(&rpc->workers[i].out)))
			tni_rpc_server_send_queued(req);
	}
}
