/* A DPDK port shared by the engines of a process: one rx/tx queue pair and
 * one mempool per engine, steering rules, the neighbour table. */
/* rte_intr_instance_alloc and its setters, experimental in DPDK 22.11, are
 * the only way to give the EAL's interrupt thread a file descriptor of
 * ours (the gate's keeper, below). */
#define ALLOW_EXPERIMENTAL_API 1
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_bus.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../../util/sized.h"
#include "dpdk_internal.h"
#include "tern/error.h"

#define HANDOFF_SLOTS 1024

void tern_dpdk_port_config_init_sized(struct tern_dpdk_port_config *cfg, size_t size)
{
	if (!cfg || size < sizeof(uint32_t))
		return;
	struct tern_dpdk_port_config c = { 0 };
	c.size = (uint32_t)tni_sized_common(size, sizeof(c));
	c.queues = 1;
	c.mtu = 1500;
	c.attach_min_bytes = 1024;
	c.mbufs = 8191;
	c.rx_desc = 1024;
	c.tx_desc = 1024;
	memcpy(cfg, &c, c.size);
}

/* UDP destination port udp_base + q to queue q, in the NIC. */
static struct rte_flow *flow_to_queue(uint16_t port_id, uint16_t udp_port, uint16_t q)
{
	struct rte_flow_attr attr = { .ingress = 1 };
	struct rte_flow_item_udp udp_spec = { .hdr.dst_port = rte_cpu_to_be_16(udp_port) };
	struct rte_flow_item_udp udp_mask = { .hdr.dst_port = 0xffff };
	struct rte_flow_item pattern[] = {
		{ .type = RTE_FLOW_ITEM_TYPE_ETH },
		{ .type = RTE_FLOW_ITEM_TYPE_IPV4 },
		{ .type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp_spec, .mask = &udp_mask },
		{ .type = RTE_FLOW_ITEM_TYPE_END },
	};
	struct rte_flow_action_queue queue = { .index = q };
	struct rte_flow_action actions[] = {
		{ .type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &queue },
		{ .type = RTE_FLOW_ACTION_TYPE_END },
	};
	struct rte_flow_error err;
	if (rte_flow_validate(port_id, &attr, pattern, actions, &err))
		return NULL;
	return rte_flow_create(port_id, &attr, pattern, actions, &err);
}

static void barrier_reached(void *arg)
{
	atomic_store_explicit((atomic_bool *)arg, true, memory_order_release);
}

/* Waits until the EAL's interrupt thread has finished whatever callback it
 * is running. A PMD's control path runs there (memif's socket handlers):
 * closing a port while that thread still handles the port's disconnect
 * freed the same control channel twice. An alarm callback also runs on
 * that thread, one callback at a time, so when ours has run, the one
 * before it has returned. */
static void interrupt_thread_barrier(void)
{
	atomic_bool reached = false;
	if (rte_eal_alarm_set(1, barrier_reached, &reached) != 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	time_t until = ts.tv_sec + 2;
	while (!atomic_load_explicit(&reached, memory_order_acquire)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > until) {
			/* Waits for the callback if it is running right now. */
			rte_eal_alarm_cancel(barrier_reached, &reached);
			return;
		}
		sched_yield();
	}
}

/* The gate's keeper (dpdk_gate.h). There is one EAL interrupt thread per
 * process, so there is one gate, shared by every memif port: a thread
 * parked in one port's callback would hold the others' engines out. It is
 * the one piece of tern state outside an object the application holds:
 * the first memif port creates it, the last one frees it. */
/* How long other callbacks may wait: not long while a link is down (a
 * memif handshake is a dozen messages, one per outing); longer once all
 * are up, since each outing costs the engines a pause and, where they
 * fill every core, a preemption. */
#define GATE_PARK_DOWN_NS 1000000ull
#define GATE_PARK_UP_NS 50000000ull
struct gate_keeper {
	struct tni_gate gate;
	struct rte_intr_handle *ih;
	int efd;
	unsigned refs;
	_Atomic uint64_t ports; /* the ids of the ports holding it: their links set the park */
};
static pthread_mutex_t keeper_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gate_keeper *keeper;

/* Called on the interrupt thread whenever it polls: the eventfd is never
 * read, so it is always ready. */
static void keeper_park(void *arg)
{
	struct gate_keeper *k = arg;
	bool all_up = true;
	for (uint64_t m = atomic_load(&k->ports); m; m &= m - 1) {
		struct rte_eth_link l;
		if (rte_eth_link_get_nowait((uint16_t)__builtin_ctzll(m), &l) != 0 || l.link_status != RTE_ETH_LINK_UP)
			all_up = false;
	}
	tni_gate_park(&k->gate, all_up ? GATE_PARK_UP_NS : GATE_PARK_DOWN_NS);
}

static void keeper_free(struct gate_keeper *k)
{
	if (k->ih) {
		tni_gate_stop(&k->gate);
		while (rte_intr_callback_unregister(k->ih, keeper_park, k) == -EAGAIN)
			sched_yield(); /* it is parked in there: the stop ends that */
		rte_intr_instance_free(k->ih);
	}
	if (k->efd >= 0)
		close(k->efd);
	tni_gate_destroy(&k->gate);
	free(k);
}

_Static_assert(RTE_MAX_ETHPORTS <= 64, "the keeper's port mask");

static struct tni_gate *gate_get(uint16_t port_id)
{
	pthread_mutex_lock(&keeper_lock);
	struct gate_keeper *k = keeper;
	size_t size = (sizeof(*k) + 63) & ~(size_t)63;
	if (!k && (k = aligned_alloc(64, size))) {
		memset(k, 0, size);
		tni_gate_init(&k->gate, true);
		k->efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		k->ih = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
		if (k->efd < 0 || !k->ih || rte_intr_fd_set(k->ih, k->efd) ||
		    rte_intr_type_set(k->ih, RTE_INTR_HANDLE_EXT) ||
		    rte_intr_callback_register(k->ih, keeper_park, k)) {
			keeper_free(k); /* its unregistration finds nothing to take off */
			k = NULL;
		}
		keeper = k;
	}
	if (k) {
		k->refs++;
		atomic_fetch_or(&k->ports, 1ull << port_id);
	}
	pthread_mutex_unlock(&keeper_lock);
	return k ? &k->gate : NULL;
}

static void gate_put(struct tni_gate *g, uint16_t port_id)
{
	pthread_mutex_lock(&keeper_lock);
	struct gate_keeper *k = keeper;
	if (k && &k->gate == g)
		atomic_fetch_and(&k->ports, ~(1ull << port_id));
	if (k && &k->gate == g && --k->refs == 0) {
		keeper = NULL;
		keeper_free(k);
	}
	pthread_mutex_unlock(&keeper_lock);
}

static void release(struct tern_dpdk_port *p, bool started)
{
	struct rte_flow_error err;
	for (unsigned q = 0; q < TERN_DPDK_MAX_QUEUES; q++)
		if (p->flow[q])
			rte_flow_destroy(p->port_id, p->flow[q], &err);
	if (started) {
		/* Close too: a PMD frees its queues and sockets only then (an
		 * af_xdp socket would leak). The port cannot be started again. */
		interrupt_thread_barrier();
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		interrupt_thread_barrier();
	}
	for (unsigned q = 0; q < TERN_DPDK_MAX_QUEUES; q++) {
		rte_ring_free(p->handoff[q]);
		/* The port's rings still point at the pools until it is stopped. */
		rte_mempool_free(p->pool[q]);
	}
	if (p->gate)
		gate_put(p->gate, p->port_id);
	free(p);
}

/* The key tern asks a port to hash with: the well-known Toeplitz key,
 * repeated to the port's length. Any key works; a known one means the
 * hints are right even where the port cannot report its key. */
static void default_rss_key(uint8_t *key, unsigned len)
{
	const unsigned n = sizeof(tni_rss_well_known_key);
	for (unsigned i = 0; i < len; i++)
		key[i] = tni_rss_well_known_key[i % n];
}

/* Whether RSS steering can work, told before the device is touched (a
 * port that fails after it started is closed for good). */
static bool rss_possible(const struct tern_dpdk_port_config *cfg, const struct rte_eth_dev_info *info)
{
	bool key = cfg->rss_key || ((info->flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_UDP) &&
				    info->hash_key_size >= 16 && info->hash_key_size <= TERN_RSS_MAX_KEY);
	bool reta = cfg->rss_reta || (info->reta_size > 0 && info->reta_size <= TERN_RSS_MAX_RETA);
	return key && reta;
}

/* The key and table RSS steering computes with: from the configuration
 * where given, else read back from the port (after setting a round-robin
 * table, so that every engine's queue is in it). */
static bool learn_rss(struct tern_dpdk_port *p, const struct tern_dpdk_port_config *cfg,
		      const struct rte_eth_dev_info *info)
{
	struct tni_rss *r = &p->rss;
	memset(r, 0, sizeof(*r));
	if (cfg->rss_key) {
		memcpy(r->key, cfg->rss_key, cfg->rss_key_len);
		r->key_len = cfg->rss_key_len;
	} else {
		struct rte_eth_rss_conf rc = { .rss_key = r->key, .rss_key_len = info->hash_key_size };
		if (info->hash_key_size < 16 || info->hash_key_size > TERN_RSS_MAX_KEY ||
		    rte_eth_dev_rss_hash_conf_get(p->port_id, &rc) != 0 || !(rc.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP))
			return false; /* unknown key, or UDP ports not hashed: a source port changes nothing */
		r->key_len = info->hash_key_size;
	}
	if (cfg->rss_reta) {
		memcpy(r->reta, cfg->rss_reta, cfg->rss_reta_size * sizeof(uint16_t));
		r->reta_size = cfg->rss_reta_size;
		return true;
	}
	uint16_t n = info->reta_size;
	if (n == 0 || n > TERN_RSS_MAX_RETA)
		return false;
	struct rte_eth_rss_reta_entry64 conf[TERN_RSS_MAX_RETA / RTE_ETH_RETA_GROUP_SIZE];
	memset(conf, 0, sizeof(conf));
	for (uint16_t i = 0; i < n; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = (uint16_t)(i % p->nq);
	}
	rte_eth_dev_rss_reta_update(p->port_id, conf, n); /* a port that refuses keeps its own */
	if (rte_eth_dev_rss_reta_query(p->port_id, conf, n) != 0)
		return false;
	for (uint16_t i = 0; i < n; i++)
		r->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	r->reta_size = n;
	return true;
}

static int setup_steering(struct tern_dpdk_port *p, const struct tern_dpdk_port_config *cfg,
			  const struct rte_eth_dev_info *info)
{
	enum tern_dpdk_steering want = cfg->steering;
	p->steering = TERN_STEER_SOFTWARE;
	if (p->nq == 1)
		return 0; /* nothing to steer */
	if (want == TERN_STEER_AUTO || want == TERN_STEER_FLOW) {
		unsigned ok = 0;
		for (uint16_t q = 0; q < p->nq; q++)
			if ((p->flow[q] = flow_to_queue(p->port_id, (uint16_t)(p->udp_base + q), q)))
				ok++;
		if (ok == p->nq) {
			p->steering = TERN_STEER_FLOW;
			return 0;
		}
		struct rte_flow_error err;
		for (uint16_t q = 0; q < p->nq; q++)
			if (p->flow[q]) {
				rte_flow_destroy(p->port_id, p->flow[q], &err);
				p->flow[q] = NULL;
			}
		if (want == TERN_STEER_FLOW)
			return TERN_ENOTSUP;
	}
	if ((want == TERN_STEER_AUTO || want == TERN_STEER_RSS) && rss_possible(cfg, info)) {
		if (learn_rss(p, cfg, info)) {
			p->steering = TERN_STEER_RSS;
			return 0;
		}
		if (want == TERN_STEER_RSS)
			return TERN_ENOTSUP;
	}
	/* Software steering still catches a frame that arrived elsewhere
	 * (ARP's queue, an RSS hash): each engine gets a ring. */
	return 0;
}

/* Which ports may send a payload from the caller's memory, chained as an
 * external mbuf. Only where it is known safe: memif in copy mode and
 * af_packet copy every segment into their rings and never read an IOVA;
 * memif zero-copy and af_xdp would hand the device an address outside
 * their shared region (af_xdp copies only the first segment besides).
 * Hardware ports need multi-segment sends and addresses the device can
 * use: DPDK memory with IOVA = VA (checked per buffer when sending). */
static void choose_attach(struct tern_dpdk_port *p, const struct rte_eth_dev_info *info)
{
	p->attach_any = p->attach_dma = false;
	if (!(info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
		return;
	const char *drv = info->driver_name ? info->driver_name : "";
	const struct rte_devargs *da = info->device ? rte_dev_devargs(info->device) : NULL;
	const char *args = da && da->args ? da->args : "";
	if (strcmp(drv, "net_memif") == 0) {
		p->attach_any = !strstr(args, "zero-copy=yes") && !strstr(args, "zero-copy=y");
		return;
	}
	if (strcmp(drv, "net_af_packet") == 0) {
		p->attach_any = true;
		return;
	}
	const struct rte_bus *bus = info->device ? rte_dev_bus(info->device) : NULL;
	p->attach_dma = bus && strcmp(rte_bus_name(bus), "pci") == 0 && rte_eal_iova_mode() == RTE_IOVA_VA;
}

int tern_dpdk_port_create(const struct tern_dpdk_port_config *user, struct tern_dpdk_port **out)
{
	if (!user || user->size < sizeof(uint32_t))
		return TERN_EINVAL;
	/* Fields the application was built without keep their defaults. */
	struct tern_dpdk_port_config full;
	tern_dpdk_port_config_init(&full);
	tni_sized_copy(&full, sizeof(full), user, user->size);
	full.size = sizeof(full);
	const struct tern_dpdk_port_config *cfg = &full;
	if (!out || !cfg->ip || !cfg->udp_port || cfg->queues == 0 || cfg->queues > TERN_DPDK_MAX_QUEUES ||
	    cfg->mtu < 576 || cfg->mtu > 9000 || cfg->mbufs < 1024 || (uint32_t)cfg->udp_port + cfg->queues > 65536 ||
	    cfg->steering > TERN_STEER_RSS || (cfg->rss_key && (cfg->rss_key_len < 16 || cfg->rss_key_len > TERN_RSS_MAX_KEY)) ||
	    (cfg->rss_reta && (cfg->rss_reta_size == 0 || cfg->rss_reta_size > TERN_RSS_MAX_RETA)) ||
	    (cfg->reflect_udp_port >= cfg->udp_port && cfg->reflect_udp_port < (uint32_t)cfg->udp_port + cfg->queues))
		return TERN_EINVAL; /* an engine's port cannot be the reflector's too */
	for (uint32_t i = 0; cfg->rss_reta && i < cfg->rss_reta_size; i++)
		if (cfg->rss_reta[i] >= cfg->queues)
			return TERN_EINVAL;
	if (rte_eal_process_type() == RTE_PROC_INVALID)
		return TERN_ENOTSUP; /* call tern_dpdk_init first */
	struct tern_dpdk_port *p = calloc(1, sizeof(*p));
	if (!p)
		return TERN_ENOMEM;
	struct in_addr a;
	if (inet_pton(AF_INET, cfg->ip, &a) != 1) {
		free(p);
		return TERN_EINVAL;
	}
	p->ip = a.s_addr;
	p->udp_base = cfg->udp_port;
	p->reflect = cfg->reflect_udp_port;
	p->nq = cfg->queues;
	p->mtu = cfg->mtu;
	p->attach_min = cfg->attach_min_bytes;
	p->arp = !cfg->no_arp;
	if (cfg->device) {
		if (rte_eth_dev_get_port_by_name(cfg->device, &p->port_id)) {
			free(p);
			return TERN_ENODEV;
		}
	} else {
		p->port_id = cfg->port_id;
		if (!rte_eth_dev_is_valid_port(p->port_id)) {
			free(p);
			return TERN_ENODEV;
		}
	}
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc || info.max_rx_queues < p->nq || info.max_tx_queues < p->nq) {
		free(p);
		return rc ? rc : TERN_EINVAL;
	}
	if (cfg->steering == TERN_STEER_RSS && p->nq > 1 && !rss_possible(cfg, &info)) {
		free(p);
		return TERN_ENOTSUP;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name ? info.driver_name : "?");
	uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	p->csum_offload = !cfg->no_offload && (info.tx_offload_capa & csum) == csum;
	uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	p->rx_csum = !cfg->no_offload && (info.rx_offload_capa & rx_csum) == rx_csum;
	p->memory_link = strcmp(p->driver, "net_memif") == 0;
	if (p->memory_link && !(p->gate = gate_get(p->port_id))) {
		free(p);
		return TERN_ENOMEM;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = cfg->mtu;
	if (p->csum_offload)
		conf.txmode.offloads = csum;
	if (p->rx_csum)
		conf.rxmode.offloads = rx_csum;
	choose_attach(p, &info);
	p->dpdk_buffers = p->attach_dma || cfg->dpdk_buffers;
	if (p->attach_any || p->attach_dma)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	uint8_t key[TERN_RSS_MAX_KEY];
	if (p->nq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
		if (info.hash_key_size >= 16 && info.hash_key_size <= TERN_RSS_MAX_KEY) {
			if (cfg->rss_key && cfg->rss_key_len == info.hash_key_size)
				memcpy(key, cfg->rss_key, cfg->rss_key_len);
			else
				default_rss_key(key, info.hash_key_size);
			conf.rx_adv_conf.rss_conf.rss_key = key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		}
	}
	rc = rte_eth_dev_configure(p->port_id, p->nq, p->nq, &conf);
	if (rc && conf.rx_adv_conf.rss_conf.rss_key) {
		/* A port that takes no key of ours hashes with its own. */
		conf.rx_adv_conf.rss_conf.rss_key = NULL;
		conf.rx_adv_conf.rss_conf.rss_key_len = 0;
		rc = rte_eth_dev_configure(p->port_id, p->nq, p->nq, &conf);
	}
	if (rc) {
		release(p, false);
		return rc;
	}
	uint16_t nrx = cfg->rx_desc, ntx = cfg->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(p->port_id);
	if (socket < 0)
		socket = (int)SOCKET_ID_ANY;
	p->socket = socket;
	uint32_t room = RTE_PKTMBUF_HEADROOM + (cfg->mtu + 14 > 2048 ? cfg->mtu + 14 : 2048);
	for (uint16_t q = 0; q < p->nq; q++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		snprintf(name, sizeof(name), "tern_p%u_q%u", p->port_id, q);
		p->pool[q] = rte_pktmbuf_pool_create(name, cfg->mbufs, 256, TERN_DPDK_PRIV_SIZE, (uint16_t)room,
						     socket);
		snprintf(name, sizeof(name), "tern_h%u_q%u", p->port_id, q);
		p->handoff[q] = p->nq > 1 ? rte_ring_create(name, HANDOFF_SLOTS, socket, RING_F_SC_DEQ) : NULL;
		if (!p->pool[q] || (p->nq > 1 && !p->handoff[q])) {
			rc = rte_errno ? -rte_errno : TERN_ENOMEM;
			goto fail;
		}
		struct rte_eth_txconf txc = info.default_txconf;
		txc.offloads = conf.txmode.offloads;
		if ((rc = rte_eth_rx_queue_setup(p->port_id, q, nrx, (unsigned)socket, NULL, p->pool[q])) ||
		    (rc = rte_eth_tx_queue_setup(p->port_id, q, ntx, (unsigned)socket, &txc)))
			goto fail;
	}
	if ((rc = rte_eth_dev_start(p->port_id)))
		goto fail;
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if ((rc = setup_steering(p, cfg, &info))) {
		release(p, true);
		return rc;
	}
	for (unsigned i = 0; i < cfg->n_neighbors; i++)
		tern_dpdk_port_add_neighbor(p, &cfg->neighbors[i]);
	*out = p;
	return 0;
fail:
	release(p, false);
	return rc;
}

int tern_dpdk_port_destroy(struct tern_dpdk_port *p)
{
	if (!p)
		return 0;
	if (atomic_load(&p->engines) != 0)
		return TERN_EBUSY;
	release(p, true);
	return 0;
}

int tern_dpdk_port_info_sized(struct tern_dpdk_port *p, struct tern_dpdk_port_info *user, size_t size)
{
	if (!p || !user)
		return TERN_EINVAL;
	/* Filled whole here, handed over as far as the application's struct goes. */
	struct tern_dpdk_port_info full, *out = &full;
	memset(out, 0, sizeof(*out));
	out->port_id = p->port_id;
	out->queues = p->nq;
	memcpy(out->mac, p->mac.addr_bytes, 6);
	struct rte_eth_link link;
	if (rte_eth_link_get_nowait(p->port_id, &link) == 0) {
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
		out->link_mbps = link.link_speed;
	}
	out->csum_offload = p->csum_offload;
	out->rx_csum_offload = p->rx_csum;
	out->link_checks_tx = p->memory_link || p->csum_offload;
	out->tx_attach = p->attach_any || p->attach_dma;
	out->steering = p->steering;
	snprintf(out->driver, sizeof(out->driver), "%s", p->driver);
	tni_sized_copy(user, size, out, sizeof(*out));
	return 0;
}

int tern_dpdk_port_add_neighbor(struct tern_dpdk_port *p, const struct tern_dpdk_neighbor *n)
{
	if (!p || !n)
		return TERN_EINVAL;
	uint32_t ip;
	memcpy(&ip, n->ip, 4);
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, n->mac, 6);
	if (ip == 0 || !rte_is_unicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac))
		return TERN_EINVAL;
	tni_neigh_set(&p->neigh, ip, &mac);
	return tni_neigh_lookup(&p->neigh, ip, &mac) ? 0 : TERN_ENOMEM;
}

int tern_dpdk_port_neighbor(struct tern_dpdk_port *p, struct tern_dpdk_neighbor *n)
{
	if (!p || !n)
		return TERN_EINVAL;
	uint32_t ip;
	memcpy(&ip, n->ip, 4);
	struct rte_ether_addr mac;
	if (!tni_neigh_lookup(&p->neigh, ip, &mac))
		return TERN_EAGAIN;
	memcpy(n->mac, mac.addr_bytes, 6);
	return 0;
}

int tern_dpdk_port_xstats(struct tern_dpdk_port *p, void (*fn)(const char *name, uint64_t value, void *arg),
			  void *arg)
{
	if (!p || !fn)
		return TERN_EINVAL;
	int n = rte_eth_xstats_get_names(p->port_id, NULL, 0);
	if (n <= 0)
		return n;
	struct rte_eth_xstat_name *names = calloc((size_t)n, sizeof(*names));
	struct rte_eth_xstat *vals = calloc((size_t)n, sizeof(*vals));
	int rc = TERN_ENOMEM;
	if (names && vals) {
		int a = rte_eth_xstats_get_names(p->port_id, names, (unsigned)n);
		int b = rte_eth_xstats_get(p->port_id, vals, (unsigned)n);
		rc = a < 0 ? a : b < 0 ? b : 0;
		if (!rc) {
			int k = a < b ? a : b;
			for (int i = 0; i < k; i++)
				if (vals[i].id < (uint64_t)a)
					fn(names[vals[i].id].name, vals[i].value, arg);
			rc = k;
		}
	}
	free(names);
	free(vals);
	return rc;
}
