/* fly_machine.h — the Fly Machines API's JSON, without any HTTP
 * (fly-machines-api.md §2.2, §2.13, §2.14).
 *
 * Promises:
 *  - fly_create_body() checks a launch locally first (image, region, guest,
 *    env, files, metadata) and refuses it with one line that says what is
 *    wrong and what to do, so nothing the server would refuse is sent;
 *  - the body it builds is a runner's: auto_destroy true (false for one the
 *    warmer may keep stopped, keep_stopped), restart policy "no", init.exec as given, files base64-encoded
 * with an integer mode, region at the top level, no name (Fly makes one), no skip_launch, and nothing that
 * only responses carry;
 *  - every runner carries its launch id in config.metadata (FLY_META_LAUNCH),
 *    so a create whose answer was lost can be found again by listing;
 *  - parsers never trust the server: a missing field reads as "", a wrong
 *    type is ignored or refused, and error texts come back as one line.
 * Pure code (cJSON only): linked into the CLI and unit-tested; the HTTP side
 * is lib/fly/http.h. */
#ifndef FLAME_FLY_MACHINE_H
#define FLAME_FLY_MACHINE_H

#include <stddef.h>

/* config.metadata keys flame sets on every runner. */
#define FLY_META_POOL "flame_pool"
#define FLY_META_PARENT "flame_parent"
#define FLY_META_LAUNCH "flame_launch"

struct fly_kv {
	const char *key;
	const char *value;
};

struct fly_file {
	const char *guest_path; /* absolute path on the machine */
	const void *data;       /* contents (any bytes) */
	size_t len;
	int mode; /* permission bits; 0 means 0644 */
};

struct fly_launch {
	const char *image;    /* required */
	const char *region;   /* NULL or "": let Fly choose */
	const char *cpu_kind; /* "shared" or "performance" */
	int cpus;             /* >= 1 */
	int memory_mb;        /* a multiple of 256, within the per-CPU bounds */
	const char *gpu_kind; /* NULL: no GPU */
	int gpus;             /* with gpu_kind; 0 means 1 */
	char *const *env;     /* NAME=VALUE strings, NULL-terminated; may be NULL */
	const struct fly_file *files;
	size_t nfiles;
	const char *pool;              /* metadata FLY_META_POOL */
	const char *parent;            /* metadata FLY_META_PARENT: who launched it */
	const char *launch_id;         /* metadata FLY_META_LAUNCH: required, unique */
	const struct fly_kv *metadata; /* more metadata; may not reuse flame_* keys */
	size_t nmetadata;
	char *const *argv; /* init.exec, NULL-terminated; NULL: the image's own */
	int keep_stopped;  /* auto_destroy false: the warmer may keep it stopped */
};

/* A Machine as the API returns it.  Strings are never NULL ("" when the
 * server left them out); the struct owns them: see fly_machine_free(). */
struct fly_meta {
	char *key;
	char *value;
};

struct fly_machine {
	char *id;
	char *name;
	char *instance_id;
	char *state;
	char *private_ip;
	char *region;
	char *image;           /* config.image: what was asked for */
	char *image_ref;       /* image_ref as "registry/repository:tag", comparable with image */
	char *image_digest;    /* image_ref.digest, "sha256:…" */
	struct fly_meta *meta; /* config.metadata, string values only */
	size_t nmeta;
	/* the newest exit event (events[].request.exit_event), if any */
	int exited;      /* 1 if there is one */
	int exit_code;   /* its exit_code */
	int exit_signal; /* its signal, or 0 (Fly reports -1 for none) */
	int oom_killed;
};

/* 0 if the launch can be sent; -1 with a one-line reason otherwise. */
int fly_launch_check(const struct fly_launch *l, char *err, size_t errlen);

/* The create request body (compact JSON, malloc'd), or NULL with a one-line
 * reason when fly_launch_check() refuses the launch. */
char *fly_create_body(const struct fly_launch *l, char *err, size_t errlen);

/* Parses one Machine object.  0 on success; -1 with err when the text is not
 * an object with a string "id".  On failure *m holds nothing to free. */
int fly_machine_parse(const char *json, size_t len, struct fly_machine *m, char *err, size_t errlen);

/* Parses a list answer (a JSON array of Machines) into a malloc'd vector. */
int fly_machines_parse(const char *json, size_t len, struct fly_machine **v, size_t *n, char *err,
                       size_t errlen);

/* config.metadata[key], or NULL. */
const char *fly_machine_meta(const struct fly_machine *m, const char *key);

/* Frees what *m owns (not m itself) and zeroes it. */
void fly_machine_free(struct fly_machine *m);
void fly_machines_free(struct fly_machine *v, size_t n);

/* The server's error text from an error body ({"error":…}, also "message"
 * as in lease answers), or the start of a body that is not JSON: one line of
 * printable text, at most 300 bytes, malloc'd; "" when there is none. */
char *fly_error_text(const char *body, size_t len);

/* Standard base64 of n bytes (with padding), malloc'd. */
char *fly_base64(const void *data, size_t n);

#endif
