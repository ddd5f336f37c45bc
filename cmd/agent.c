/* agent.c — `flame agent`: the main process of a runner reached over
 * SSH (a Fly Machine, or a test's stand-in for one).
 *
 * It reads its settings and keys under its root (lib/agent/conf.h), writes a
 * private sshd_config and runs OpenSSH's sshd under itself; the warmer's
 * side reaches the job slots through that sshd.  The runner protects
 * itself: it exits when no job has run for idle_shutdown_after, when it has
 * heard nothing from the warmer's side for the failsafe period (the slots
 * tell it, lib/agent/beat.h), and on SIGTERM after letting running jobs
 * finish for the grace period.  When it exits nothing it started is left:
 * it is a child subreaper and kills every process below it.  On Fly the
 * machine is created with auto_destroy, so its exit destroys the machine. */
#include "agent/beat.h"
#include "agent/conf.h"
#include "cmds.h"
#include "commands.h"
#include "duration.h"
#include "paths.h"
#include "agent/proctree.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 250

extern char **environ;

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static int load_settings(struct agent_conf *c, char *err, size_t errlen)
{
	const char *ip = getenv("FLY_PRIVATE_IP");
	char *text;
	int rc;

	if (ip && ip[0] && strlen(ip) < sizeof c->listen)
		snprintf(c->listen, sizeof c->listen, "%s", ip);
	if (access(c->settings, F_OK) < 0)
		return 0;
	text = read_small_file(c->settings, 1u << 20, NULL);
	if (!text) {
		snprintf(err, errlen, "cannot read %s: %s", c->settings, strerror(errno));
		return -1;
	}
	rc = agent_conf_parse(c, text, err, errlen);
	free(text);
	return rc;
}

static int check_keys(const struct agent_conf *c, char *err, size_t errlen)
{
	if (access(c->host_key, R_OK) < 0) {
		snprintf(err, errlen, "no host key at %s: the warmer sends it when it creates the runner",
		         c->host_key);
		return -1;
	}
	if (access(c->authorized_keys, R_OK) < 0) {
		snprintf(err, errlen, "no client key at %s: the warmer sends it when it creates the runner",
		         c->authorized_keys);
		return -1;
	}
	/* sshd refuses a host key others can read */
	if (chmod(c->host_key, 0600) < 0) {
		snprintf(err, errlen, "cannot make %s private: %s", c->host_key, strerror(errno));
		return -1;
	}
	return 0;
}

/* PATH for the sessions: this binary's directory first. */
static char *session_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n <= 0)
		return xstrdup("/usr/local/bin:/usr/bin:/bin");
	self[n] = '\0';
	return xasprintf("%s:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", dirname(self));
}

static int write_sshd_config(const struct agent_conf *c, char **path, char *err, size_t errlen)
{
	char *env_path = session_path(), *text = agent_conf_sshd_config(c, env_path, getenv("TMPDIR"));
	char *home = xasprintf("%s/home", c->state);
	int fd, rc = -1;

	*path = xasprintf("%s/sshd_config", c->state);
	if (paths_private_dir(home, err, errlen) < 0)
		goto out;
	fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", *path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(env_path);
	free(text);
	free(home);
	return rc;
}

static pid_t start_sshd(const struct agent_conf *c, const char *config, char *err, size_t errlen)
{
	const char *sshd = getenv("FLAME_AGENT_SSHD");
	char *log = xasprintf("%s/sshd.log", c->state);
	char *argv[] = {
		(char *)(sshd ? sshd : "/usr/sbin/sshd"), "-D", "-r", "-f", (char *)config, "-E", log, NULL
	};
	pid_t pid;
	int rc;

	/* sshd's privilege separation needs this directory (Debian's unit makes it) */
	(void)mkdir("/run/sshd", 0755);
	rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	free(log);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
		return -1;
	}
	return pid;
}

/* Ends everything below us: sshd, its sessions, the slots and their jobs. */
static void kill_everything(const struct agent_conf *c)
{
	int status;

	/* Parents before children (the walk is breadth-first), so a slot dies
	 * before it could report its killed job as the job's own end: the
	 * caller learns that the runner went away (255), not a false 137. */
	for (int round = 0; round < 20; round++) {
		if (proctree_signal_descendants(getpid(), SIGKILL) == 0)
			break;
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		usleep(50000);
	}
	/* a job that left the tree still has its group on record */
	agent_beat_signal_jobs(c->state, SIGKILL);
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
}

static int64_t since(int64_t wall, int64_t start)
{
	return wall_ms() - (wall > start ? wall : start);
}

static void say_why(const char *why, int64_t ms)
{
	char d[32];
	duration_format(ms, d, sizeof d);
	msg("agent: %s for %s; exiting", why, d);
}

/* The watch: returns the exit status once the runner should be gone. */
static int watch(const struct agent_conf *c, pid_t sshd)
{
	int64_t started = wall_ms(), drain_until = 0;
	struct agent_beat b;
	int status;

	for (;;) {
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == sshd && !drain_until) {
				msg("agent: sshd exited (see %s/sshd.log)", c->state);
				return EXIT_FAILURE_FLAME;
			}
		agent_beat_scan(c->state, &b);
		if (got_term && !drain_until) {
			/* stop taking connections; running jobs keep theirs */
			kill(sshd, SIGTERM);
			drain_until = now_ms() + c->grace_ms;
			msg("agent: SIGTERM: letting %d running job(s) finish", b.busy);
		}
		if (drain_until && (b.busy == 0 || now_ms() >= drain_until))
			return 0;
		if (since(b.heard_ms, started) > c->failsafe_ms) {
			say_why("no word from the warmer", c->failsafe_ms);
			return 0;
		}
		if (!b.busy && since(b.last_job_ms, started) > c->idle_ms) {
			say_why("idle", c->idle_ms);
			return 0;
		}
		usleep(TICK_MS * 1000);
	}
}

static int serve(struct agent_conf *c)
{
	char err[1024], *config = NULL;
	pid_t sshd;
	int rc;

	if (load_settings(c, err, sizeof err) < 0 || check_keys(c, err, sizeof err) < 0 ||
	    paths_private_dir(c->state, err, sizeof err) < 0 || agent_beat_init(c->state) < 0 ||
	    write_sshd_config(c, &config, err, sizeof err) < 0) {
		msg("agent: %s", err);
		free(config);
		return EXIT_FAILURE_FLAME;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	sshd = start_sshd(c, config, err, sizeof err);
	free(config);
	if (sshd < 0) {
		msg("agent: %s", err);
		return EXIT_FAILURE_FLAME;
	}
	msg("agent: sshd listening on %s port %ld", c->listen[0] ? c->listen : "every address", c->port);
	rc = watch(c, sshd);
	kill_everything(c);
	(void)paths_remove_tree(c->state);
	return rc;
}

int cmd_agent(int argc, char **argv)
{
	const char *root = getenv("FLAME_AGENT_ROOT");
	int parsed = cmd_no_operands("agent", argc, argv);
	struct agent_conf c;
	struct sigaction sa;
	int rc;

	if (parsed != CMD_END)
		return cmd_exit_status(parsed);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	agent_conf_init(&c, root && root[0] ? root : "/");
	c.runtime_dir = getenv("XDG_RUNTIME_DIR");
	rc = serve(&c);
	agent_conf_free(&c);
	return rc;
}
