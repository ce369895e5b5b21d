/* EAL start-up from a library call, also inside an application that has
 * started the EAL itself. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "../driver.h"
#include "tern/dpdk.h"
#include "tern/error.h"

int tern_dpdk_init(int argc, char **argv)
{
	if (argc < 1 || !argv)
		return TERN_EINVAL;
	/* rte_eal_init may reorder argv: give it a copy of the pointers. */
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));
	if (!copy)
		return TERN_ENOMEM;
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	/* The EAL pins the calling thread to its main lcore, and every thread
	 * it starts later would inherit that: two engines on one CPU. The
	 * caller's threads are the application's to place; give it back. */
	cpu_set_t before;
	bool restore = pthread_getaffinity_np(pthread_self(), sizeof(before), &before) == 0;
	int rc = rte_eal_init(argc, copy);
	free(copy);
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
	if (rc >= 0)
		return 0;
	if (rte_errno == EALREADY)
		return 0; /* the application started it: use it as it is */
	return rte_errno ? tni_error_from_errno(rte_errno) : TERN_EINVAL;
}

int tern_dpdk_init_str(const char *args)
{
	if (!args)
		return TERN_EINVAL;
	char *buf = strdup(args);
	if (!buf)
		return TERN_ENOMEM;
	char *argv[128];
	int argc = 0;
	argv[argc++] = "tern";
	for (char *save = NULL, *t = strtok_r(buf, " \t\n", &save); t && argc < 127;
	     t = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	int rc = tern_dpdk_init(argc, argv); /* the EAL copies what it keeps */
	free(buf);
	return rc;
}
