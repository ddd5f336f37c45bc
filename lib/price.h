/* price.h — what a Fly Machine costs, for `flame pool ls`'s estimate and the
 * budget's report.  Pure: a small table, no network.
 *
 * The prices are Fly.io's published on-demand rates for Ashburn (iad) and
 * Secaucus (ewr), its lowest-priced regions, from its pricing page
 * (fly.io/docs/about/pricing; looked up on 2026-12-05), whose per-second
 * rates are here per hour:
 *
 *   cpu_kind     per CPU-hour              RAM included per CPU
 *   shared       $0.0000008465 x 3600      256 MB
 *   performance  $0.000012732  x 3600      2048 MB
 *   RAM beyond what the CPUs include: $0.000002316 per GB-second x 3600
 *   a stopped Machine: $0.15 per GB of rootfs per 30 days
 *
 * (shared-cpu-1x with 256 MB: $2.19 per 30 days; performance-2x with 4 GB:
 * $66.00.)  Other regions cost up to about 1.6 times as much, GPUs are not
 * in the table, and reservations are not counted: a pool's
 * "price_per_hour" overrides the table when these do not fit. */
#ifndef FLAME_PRICE_H
#define FLAME_PRICE_H

/* USD per hour for a running Machine of that guest: the CPUs' price plus the
 * memory above what they include (less memory is no cheaper).  -1 for a
 * cpu_kind not in the table, cpus < 1 or memory_mb < 0. */
double price_machine_hour(const char *cpu_kind, int cpus, int memory_mb);

/* USD per hour for a stopped Machine with rootfs_gb GB of root file system
 * (only the rootfs is billed while stopped); -1 when rootfs_gb < 0. */
double price_stopped_hour(int rootfs_gb);

#endif
