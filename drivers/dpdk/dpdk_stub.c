/* tern built without DPDK: the API is there and says so. */
#include <string.h>

#include "tern/dpdk.h"
#include "tern/error.h"

int tern_dpdk_init(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return TERN_ENOTSUP;
}

int tern_dpdk_init_str(const char *args)
{
	(void)args;
	return TERN_ENOTSUP;
}

void tern_dpdk_port_config_init_sized(struct tern_dpdk_port_config *cfg, size_t size)
{
	if (cfg && size >= sizeof(uint32_t)) {
		memset(cfg, 0, size);
		cfg->size = (uint32_t)size;
	}
}

int tern_dpdk_driver_open(struct tern_dpdk_port *port, uint16_t queue, struct tern_driver **out)
{
	(void)port;
	(void)queue;
	(void)out;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_create(const struct tern_dpdk_port_config *cfg, struct tern_dpdk_port **out)
{
	(void)cfg;
	(void)out;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_destroy(struct tern_dpdk_port *port)
{
	(void)port;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_info_sized(struct tern_dpdk_port *port, struct tern_dpdk_port_info *out, size_t size)
{
	(void)port;
	(void)out;
	(void)size;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_add_neighbor(struct tern_dpdk_port *port, const struct tern_dpdk_neighbor *n)
{
	(void)port;
	(void)n;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_neighbor(struct tern_dpdk_port *port, struct tern_dpdk_neighbor *n)
{
	(void)port;
	(void)n;
	return TERN_ENOTSUP;
}

int tern_dpdk_port_xstats(struct tern_dpdk_port *port, void (*fn)(const char *, uint64_t, void *), void *arg)
{
	(void)port;
	(void)fn;
	(void)arg;
	return TERN_ENOTSUP;
}
