/* make_seeds.c — writes the wire and job seed corpora with the real encoder
 * (lib/wire.c), so that the seeds are frames flame actually sends:
 *   cc -std=c11 -D_GNU_SOURCE -Ilib tests/fuzz/make_seeds.c lib/wire.c lib/wire_hello.c lib/job_frame.c
 * lib/util.c && ./a.out from the top of the tree.  Not part of the build. */
#include "job_frame.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A W_JOB as the warmer hands it on: the job id, then the job frame. */
static void job(struct wbuf *w, char **argv, char **env, char **puts, char **gets, int getdir)
{
	struct job_desc d = { argv, env, puts, gets, getdir ? 0x10022u : 0, 30000 };
	wbuf_init(w, W_JOB);
	wbuf_u32(w, 7);
	job_frame_write(w, &d);
	wbuf_seal(w);
}

static void frame(const char *name, struct wbuf *w)
{
	wbuf_seal(w);
	put("wire", name, w->p, w->len);
	wbuf_free(w);
}

int main(void)
{
	char *argv[] = { "ffmpeg", "-i", "in.mp4", "-vf", "scale=320:-1", "out.mp4", NULL };
	char *sh[] = { "sh", "-c", "echo \"$1\" >&2; exit 3", "sh", "a b\tc\n", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "HOME=/home/u", "FLAME_POOL=ffmpeg", "FLAME_JOB=7", NULL };
	char *puts[] = { "in.mp4", NULL }, *gets[] = { "out.*", "logs/*.txt", NULL }, *none[] = { NULL };
	struct wbuf w, all;
	struct {
		const char *name;
		struct wbuf w;
	} jobs[3];

	job(&jobs[0].w, argv, env, puts, gets, 1), jobs[0].name = "ffmpeg";
	job(&jobs[1].w, sh, env, none, none, 0), jobs[1].name = "sh-c";
	job(&jobs[2].w, (char *[]){ "true", NULL }, none, none, none, 0), jobs[2].name = "true";
	wbuf_init(&all, W_JOB);
	all.len = 0;
	for (int i = 0; i < 3; i++) {
		/* job seeds are the payload, from the id on */
		put("job", jobs[i].name, jobs[i].w.p + 6, jobs[i].w.len - 6);
		put("wire", jobs[i].name, jobs[i].w.p, jobs[i].w.len);
		wbuf_raw(&all, jobs[i].w.p, jobs[i].w.len);
		wbuf_free(&jobs[i].w);
	}
	job_done_write(&w, 7, 3 << 8, JOB_GET_FAILED);
	frame("job-done", &w);
	wbuf_init(&w, W_OUT), wbuf_u32(&w, 7), wbuf_bytes(&w, "hello\n\0world", 12);
	frame("out", &w);
	wbuf_init(&w, W_CAPACITY), wbuf_u32(&w, 4);
	frame("capacity", &w);
	wbuf_init(&w, W_RUNNER_INFO),
		wbuf_str(&w, "{\"machine\":\"1857156b526dd8\",\"host_key\":\"ssh-ed25519 AAAA\"}");
	frame("runner-info", &w);
	wbuf_init(&w, W_PING);
	frame("ping", &w);
	wbuf_init(&w, W_GET), wbuf_u32(&w, 7), wbuf_str(&w, "out.*"), wbuf_str(&w, "out.mp4"),
		wbuf_u32(&w, 0644), wbuf_i64(&w, 1 << 20);
	frame("get", &w);
	put("wire", "three-jobs", all.p, all.len);
	wbuf_free(&all);
	/* round-trip scripts (fuzz_wire.c): 'E', type, piece size, then values */
	put("wire", "script-values",
	    "E\x15\x03\x00\x01\x02\x03\x04\x05\x06\x07\x08"
	    "\x01\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x02\x00\x00\x00\x00\x00\x00\x00\x00\x05"
	    "hello",
	    41);
	put("wire", "script-strv",
	    "E\x28\x07\x03\x00\x00\x00\x00\x00\x00\x00\x00\x03\x02"
	    "ab\x00\x03"
	    "xyz",
	    22);
	return 0;
}
