/* internal.h — what the warmer's own files share, and nothing outside
 * lib/warmer/ may see.
 *
 * The warmer is one process with one state, W (defined in loop.c).  Each
 * file does one job over it: log.c, journal.c, callers.c, pools.c,
 * runners.c, listener.c, env.c, loop.c; queue.c and schedule.c hold the pure
 * rules.  Backends and the rest of flame use warmer.h and backend_api.h. */
#ifndef FLAME_WARMER_INTERNAL_H
#define FLAME_WARMER_INTERNAL_H

#include "warmer.h"
#include "wire.h"

#include <cJSON.h>

#include <stddef.h>
#include <stdint.h>

#define STOP_GRACE_MS 10000
#define BOOT_RETRY_MS 1000
/* A booting runner gives up at its own boot_timeout with the reason; the
 * warmer's backstop comes this much later, so that the reason arrives. */
#define BOOT_REPORT_MS 1000
#define SWEEP_MS 60000
/* How long a parking runner's backend may take to stop its machine. */
#define PARK_MS 30000
/* Load limits.  Callers beyond them are not refused: they wait in the listen
 * backlog (connect and the request's send just block) until one ends. */
#define MAX_CALLERS 4096           /* connections held at once */
#define FD_HEADROOM 160            /* descriptors kept free: one request's 64, boots */
#define LISTEN_BACKLOG 4096        /* the kernel caps it at net.core.somaxconn */
#define REQUEST_BUDGET (16u << 20) /* bytes of half-received requests, all callers */
#define ACCEPT_PAUSE_MS 100        /* after accept4 ran out of descriptors */
#define SILENT_MS 5000             /* at the cap: how long a new connection may say nothing */

struct warmer {
	int listen_fd, lock_fd;
	char *sock_path, *state_path;
	struct pool *pools;
	struct caller *callers;
	int64_t grace_ms, quiet_since, started;
	int stopping, runners_stopped, dirty;
	int serving; /* recovered and swept: taking callers */
	int64_t journal_due;
	int64_t sweep_due;
	long fd_limit;              /* the soft RLIMIT_NOFILE, raised at start */
	int ncallers, at_cap;       /* connections held; whether new ones wait */
	size_t buffered;            /* bytes the callers' buffers hold */
	int64_t accept_pause_until; /* no accept4 before this */
	backend_lookup find_backend;
};

extern struct warmer W;

/* log.c */
void log_refusal(const char *what);

/* journal.c */
int journal_write(char *err, size_t errlen);
void journal_now(void);
void journal_soon(void);
void recover(void);

/* callers.c */
void reply_text(struct caller *c, enum wire_type t, int code, const char *text);
void reply_error(struct caller *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void job_request_free(struct job_request *j);
void caller_close(struct caller *c);
void caller_finish(struct caller *c);
void caller_next_job(struct caller *c);
void caller_gone(struct caller *c);
void sweep_callers(void);
void on_caller_readable(struct caller *c);
void accept_caller(void);

/* runners.c */
void boot_runner(struct pool *p);
void stop_runner(struct runner *r);
void park_runner(struct runner *r);
void remove_runner(struct runner *r);
/* Whether r was marked lost this round: it takes nothing more. */
int runner_lost(const struct runner *r);
/* Acts on the lost marks: their callers are told, the runners removed. */
void handle_lost_runners(void);

/* pools.c */
struct pool *pool_find(const char *name);
struct pool *pool_declare(const struct pool_settings *declared);
void schedule(struct pool *p);
void expire_callers(struct pool *p, int64_t now);
void check_runners(struct pool *p, int64_t now);

/* tier.c: the stopped tier */
uint32_t tier_hash(const struct pool_settings *ps);
long tier_max(const struct pool *p); /* 0 when the backend keeps none */
int tier_count(const struct pool *p);
/* Whether idle runner r should be parked rather than stopped. */
int tier_wants(const struct pool *p, const struct runner *r);
/* A parked runner's machine joins the tier. */
void tier_keep(struct pool *p, const struct runner *r);
/* Boots a runner from a kept machine (outdated ones are destroyed on the
 * way): 1 if one is starting, 0 if none was left. */
int tier_boot(struct pool *p);
/* Destroys kept machines past stopped_ttl or beyond stopped_max. */
void tier_expire(struct pool *p, int64_t wall);
/* Destroys every kept machine now; how many. */
int tier_drain(struct pool *p, const char *why);
void tier_free(struct pool *p);
cJSON *tier_json(const struct pool *p);
void tier_recover(struct pool *p, const cJSON *arr);

/* spend.c: machine-seconds in the last hour, the budget, the estimate */
double spend_used(const struct pool *p, int64_t wall);
void spend_runner_ended(struct pool *p, int64_t created_wall);
/* Whether booting (or starting) one more runner would overrun the budget. */
int spend_blocks_boot(const struct pool *p);
/* One line: the budget is used up, by how much, when it frees up. */
void spend_why(const struct pool *p, char *buf, size_t len);
/* USD per machine-hour: the pool's price_per_hour, or the table's for its
 * fly guest; -1 when unknown. */
double spend_price_hour(const struct pool_settings *ps);
void spend_add_json(cJSON *o, const struct pool *p);

/* listener.c */
int listen_on(const char *path);
void close_listener(void);
int taking_callers(int64_t now);
void raise_fd_limit(void);

/* env.c: takes the Fly API token out of the environment, then clears all
 * but the few variables runners may see. */
void scrub_environment(void);

/* loop.c */
void begin_stop(const char *why);
/* Has p's backend remove what no runner accounts for (orphaned machines). */
void sweep_pool(struct pool *p);

#endif
