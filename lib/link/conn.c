/* conn.c — the link's frames to the warmer and on each slot's in channel,
 * the heartbeats that keep the runner's agents alive, the watchdog that
 * notices a silent runner, and giving up (see internal.h). */
#include "internal.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* Slots open in order, the first before the runner is reported ready and
 * the others in the background (each costs two SSH handshakes). */
int open_slots(struct link *l)
{
	return __atomic_load_n(&l->nopen, __ATOMIC_ACQUIRE);
}

/* On the way out: no --get file half-written under a temporary name stays
 * behind (racing the out threads is harmless: the names are unique). */
void drop_arriving_files(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++) {
		struct files_dest *d = &l->slots[i].get.d;
		if (d->fd >= 0 && d->tmp[0])
			unlinkat(d->dir, d->tmp, 0);
	}
}

void __attribute__((noreturn)) lost(struct link *l, const char *why)
{
	/* Tell the warmer why (it reports the runner lost to its callers), log
	 * it, and go: the socket closing is the signal. */
	struct wbuf w;
	if (__atomic_load_n(&l->leaving, __ATOMIC_ACQUIRE))
		for (;;)
			pause(); /* our own destroy closed the connections: leave() exits */
	wbuf_init(&w, W_ERROR);
	wbuf_u32(&w, EXIT_FAILURE_FLAME);
	wbuf_str(&w, why);
	(void)wire_send(l->warmer, &w); /* no lock: nothing else matters now */
	drop_arriving_files(l);
	if (l->is_fly && !l->host[0])
		msg("fly link %s (machine %s, port %d): %s", l->runner,
		    l->fly.id[0] ? l->fly.id : "not created", l->fly.port, why);
	else
		msg("%s link %s (%s@%s:%d): %s", l->is_fly ? "fly" : "ssh", l->runner, l->user, l->host,
		    l->t.port, why);
	_exit(EXIT_FAILURE_FLAME);
}

void to_warmer(struct link *l, struct wbuf *w)
{
	pthread_mutex_lock(&l->wlock);
	if (wire_send(l->warmer, w) < 0) {
		pthread_mutex_unlock(&l->wlock);
		_exit(0); /* the warmer is gone: so are we */
	}
	pthread_mutex_unlock(&l->wlock);
	wbuf_free(w);
}

/* Fills in a frame's length; frames on a channel carry no descriptors. */
void seal(struct wbuf *w)
{
	uint32_t len = (uint32_t)(w->len - 4);
	for (int i = 0; i < 4; i++)
		w->p[i] = (unsigned char)(len >> (8 * i));
	w->p[5] = 0;
}

/* Writes a sealed frame on the in channel, whose lock the caller holds;
 * releases it. */
static void write_held(struct link_slot *s, struct wbuf *w)
{
	if (ssh_chan_write(s->in, w->p, w->len) < 0) {
		pthread_mutex_unlock(&s->inlock);
		lost(s->l, "the connection to the runner failed while sending");
	}
	pthread_mutex_unlock(&s->inlock);
}

void slot_write_raw(struct link_slot *s, const void *p, size_t n)
{
	struct wbuf w = { .p = (unsigned char *)p, .len = n };
	pthread_mutex_lock(&s->inlock);
	write_held(s, &w);
}

void slot_write(struct link_slot *s, struct wbuf *w)
{
	seal(w);
	pthread_mutex_lock(&s->inlock);
	write_held(s, w);
}

void send_job_word(struct link_slot *s, enum wire_type t, uint32_t job, uint32_t arg)
{
	struct wbuf w;
	wbuf_init(&w, t);
	wbuf_u32(&w, job);
	wbuf_u32(&w, arg);
	slot_write(s, &w);
	wbuf_free(&w);
}

/* The runner's agent exits after its failsafe period without word from us
 * (lib/agent/beat.h): each slot's in channel carries a ping every few
 * seconds.  A slot whose channel is taken (a job's stdin is flowing, or a
 * write waits on the runner) needs none, and must not be waited for. */
static void heartbeat(struct link *l)
{
	for (int i = 0, n = open_slots(l); i < n; i++) {
		struct link_slot *s = &l->slots[i];
		struct wbuf w;
		if (pthread_mutex_trylock(&s->inlock) != 0)
			continue;
		wbuf_init(&w, W_PING);
		seal(&w);
		write_held(s, &w);
		wbuf_free(&w);
	}
}

/* The runner side pings every 4 s; 15 s of silence on any slot means the
 * host, its sshd or the network is gone (libssh2 cannot tell us whether
 * keepalives are answered, and a blocked read cannot be asked). */
void *watchdog(void *arg)
{
	struct link *l = arg;
	int64_t last_beat = now_ms();
	for (;;) {
		int64_t now = now_ms();
		sleep(1);
		for (int i = 0, n = open_slots(l); i < n; i++)
			if (now - __atomic_load_n(&l->slots[i].last_rx, __ATOMIC_RELAXED) > SILENCE_MS)
				lost(l, "no word from the runner for 15 s (it pings every 4 s)");
		if (now - last_beat >= HEARTBEAT_MS) {
			heartbeat(l);
			last_beat = now;
		}
	}
	return NULL;
}
