/* price.c — see price.h. */
#include "price.h"

#include <stddef.h>
#include <string.h>

static const struct cpu_price {
	const char *kind;
	double cpu_hour; /* USD per CPU-hour */
	int included_mb; /* RAM each CPU comes with */
} cpu_prices[] = {
	{ "shared", 0.0000008465 * 3600, 256 },
	{ "performance", 0.000012732 * 3600, 2048 },
};

/* USD per GB-hour of RAM beyond what the CPUs include */
#define RAM_GB_HOUR (0.000002316 * 3600)
/* USD per GB-hour of a stopped Machine's rootfs: $0.15 per 30 days */
#define ROOTFS_GB_HOUR (0.15 / (30 * 24))

double price_machine_hour(const char *cpu_kind, int cpus, int memory_mb)
{
	const struct cpu_price *p = NULL;
	double extra_mb;

	for (size_t i = 0; i < sizeof cpu_prices / sizeof cpu_prices[0]; i++)
		if (cpu_kind && !strcmp(cpu_kind, cpu_prices[i].kind))
			p = &cpu_prices[i];
	if (!p || cpus < 1 || memory_mb < 0)
		return -1;
	/* in doubles: cpus x included_mb may not fit an int */
	extra_mb = (double)memory_mb - (double)cpus * p->included_mb;
	if (extra_mb < 0)
		extra_mb = 0;
	return cpus * p->cpu_hour + extra_mb / 1024 * RAM_GB_HOUR;
}

double price_stopped_hour(int rootfs_gb)
{
	if (rootfs_gb < 0)
		return -1;
	return rootfs_gb * ROOTFS_GB_HOUR;
}
