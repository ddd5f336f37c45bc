/* util.h — small helpers every part of flame uses: allocation that never
 * returns NULL, the "flame: " message prefix, clocks, and full reads/writes. */
#ifndef FLAME_UTIL_H
#define FLAME_UTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdarg.h>

/* Exit statuses flame itself uses (see man/flame.1, EXIT STATUS). */
enum {
	EXIT_TEMPFAIL = 75,       /* no slot became free before the slot timeout */
	EXIT_TIMEOUT = 124,       /* --timeout fired */
	EXIT_USAGE = 125,         /* usage or configuration error */
	EXIT_NOEXEC = 126,        /* command found but not executable */
	EXIT_NOTFOUND = 127,      /* command not found */
	EXIT_FAILURE_FLAME = 255, /* flame, the warmer or the runner failed */
	EXIT_NOT_RUNNING = 3      /* `warmer status`: no warmer runs */
};

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "flame: <message>\n" on stderr as one write. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmsg(const char *fmt, va_list ap);

int64_t now_ms(void);  /* monotonic clock */
int64_t wall_ms(void); /* wall clock, for ages shown to users */

/* Write or read exactly n bytes, retrying on EINTR; -1 on error or early EOF. */
int write_all(int fd, const void *buf, size_t n);
/* PID's command line into buf (cap > 1): its arguments, each ended by a
 * NUL, then a NUL; their length, or -1 (a process that is gone). */
ssize_t proc_cmdline(pid_t pid, char *buf, size_t cap);
/* The start of /proc/PID/WHAT into buf (cap > 1), NUL-terminated; its
 * length, or -1. */
ssize_t proc_read(pid_t pid, const char *what, char *buf, size_t cap);
int read_all(int fd, void *buf, size_t n);

int set_cloexec(int fd);
int set_nonblock(int fd, int on);

/* Parses a whole decimal integer in [min, max]; 0 on success, -1 otherwise. */
int parse_long(const char *s, long min, long max, long *out);

/* The whole of a file of at most max bytes, NUL-terminated (malloc'd), its
 * length in *len if len is not NULL; NULL with errno set (EFBIG if larger). */
char *read_small_file(const char *path, size_t max, size_t *len);
/* Appends s (not copied) to the NULL-terminated vector *v of *n strings. */
void strv_push(char ***v, size_t *n, char *s);
/* Free a NULL-terminated vector of strings and the vector itself. */
void strv_free(char **v);
size_t strv_len(char *const *v);

/* Raises the soft descriptor limit to the hard one and returns it (at most
 * 2^30; 1024 if it cannot be read). fd_limit_restore(), called in a child
 * between fork and exec, gives the child the soft limit this process
 * started with, so that programs it runs (a job that uses select(), or that
 * closes every descriptor up to the limit) see the usual value. */
long fd_limit_raise(void);
void fd_limit_restore(void);

#endif
