/* test_job.c — job_exit_code (lib/job.h) and job_environment
 * (lib/agent/job_exec.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "agent/job_exec.h"
#include "util.h"
#include "wire.h"

/* A real wait status: a child that exits with CODE (sig == 0) or dies of SIG. */
static int status_of(int code, int sig)
{
	int st = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sig) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(job_exit_code(status_of(0, 0), 0), 0);
	assert_int_equal(job_exit_code(status_of(1, 0), 0), 1);
	assert_int_equal(job_exit_code(status_of(7, 0), 0), 7);
	assert_int_equal(job_exit_code(status_of(255, 0), 0), 255);
	assert_int_equal(job_exit_code(status_of(0, SIGKILL), 0), 137);
	assert_int_equal(job_exit_code(status_of(0, SIGTERM), 0), 143);
}

static void test_timed_out_is_124(void **state)
{
	(void)state;
	assert_int_equal(job_exit_code(status_of(0, SIGTERM), JOB_TIMED_OUT), 124);
	assert_int_equal(job_exit_code(status_of(0, SIGKILL), JOB_TIMED_OUT), 124);
	assert_int_equal(job_exit_code(status_of(0, 0), JOB_TIMED_OUT), 124);
	assert_int_equal(job_exit_code(status_of(3, 0), JOB_TIMED_OUT | JOB_GET_FAILED), 124);
}

static void test_setup_failed_and_lost_are_255(void **state)
{
	(void)state;
	assert_int_equal(job_exit_code(status_of(0, 0), JOB_SETUP_FAILED), 255);
	assert_int_equal(job_exit_code(status_of(5, 0), JOB_SETUP_FAILED), 255);
	assert_int_equal(job_exit_code(0, JOB_RUNNER_LOST), 255);
}

static void test_get_failed(void **state)
{
	(void)state;
	assert_int_equal(job_exit_code(status_of(0, 0), JOB_GET_FAILED), 255);
	assert_int_equal(job_exit_code(status_of(3, 0), JOB_GET_FAILED), 3);
	assert_int_equal(job_exit_code(status_of(0, SIGKILL), JOB_GET_FAILED), 137);
}

static size_t count_name(char **env, const char *name)
{
	size_t n = 0, len = strlen(name);
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			n++;
	return n;
}

static const char *get(char **env, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

static void test_environment_base(void **state)
{
	char **env;
	(void)state;
	setenv("PATH", "/opt/test/bin:/usr/bin", 1);
	setenv("HOME", "/home/tester", 1);
	setenv("LANG", "C.UTF-8", 1);
	unsetenv("LC_ALL");
	setenv("SECRET_TOKEN", "hunter2", 1);
	setenv("LD_PRELOAD", "/evil.so", 1);
	setenv("FLAME_POOL", "from-process", 1);

	env = job_environment(NULL, "ffmpeg", "local-ffmpeg-3", 42);
	assert_non_null(env);
	assert_string_equal(get(env, "PATH"), "/opt/test/bin:/usr/bin");
	assert_string_equal(get(env, "HOME"), "/home/tester");
	assert_string_equal(get(env, "LANG"), "C.UTF-8");
	assert_null(get(env, "LC_ALL"));
	assert_string_equal(get(env, "FLAME_POOL"), "ffmpeg");
	assert_string_equal(get(env, "FLAME_RUNNER"), "local-ffmpeg-3");
	assert_string_equal(get(env, "FLAME_JOB"), "42");
	assert_null(get(env, "SECRET_TOKEN"));
	assert_null(get(env, "LD_PRELOAD"));
	assert_int_equal(count_name(env, "FLAME_POOL"), 1);
	/* only the documented names */
	for (size_t i = 0; env[i]; i++) {
		static const char *allowed[] = { "PATH",       "HOME",         "LANG",     "LC_ALL",
			                         "TZ",         "USER",         "LOGNAME",  "SHELL",
			                         "FLAME_POOL", "FLAME_RUNNER", "FLAME_JOB" };
		int ok = 0;
		for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
			ok |= count_name((char *[]){ env[i], NULL }, allowed[k]) == 1;
		if (!ok)
			print_error("unexpected variable %s\n", env[i]);
		assert_true(ok);
	}
	strv_free(env);

	env = job_environment(NULL, "p", "r", UINT32_MAX);
	assert_string_equal(get(env, "FLAME_JOB"), "4294967295");
	strv_free(env);
	unsetenv("SECRET_TOKEN");
	unsetenv("LD_PRELOAD");
	unsetenv("FLAME_POOL");
}

static void test_environment_assignments_win(void **state)
{
	char *assigned[] = { "PATH=/only/here", "NEW=1", "EMPTY=",    "EQ=a=b=c",
		             "FLAME_JOB=mine",  "NEW=2", "PAT=short", NULL };
	char **env;
	(void)state;
	setenv("PATH", "/usr/bin", 1);
	env = job_environment(assigned, "default", "r1", 7);
	assert_string_equal(get(env, "PATH"), "/only/here");
	assert_int_equal(count_name(env, "PATH"), 1);
	assert_string_equal(get(env, "NEW"), "2");
	assert_int_equal(count_name(env, "NEW"), 1);
	assert_string_equal(get(env, "EMPTY"), "");
	assert_string_equal(get(env, "EQ"), "a=b=c");
	assert_string_equal(get(env, "FLAME_JOB"), "mine");
	assert_int_equal(count_name(env, "FLAME_JOB"), 1);
	/* a name that is a prefix of another replaces nothing */
	assert_string_equal(get(env, "PAT"), "short");
	assert_string_equal(get(env, "FLAME_POOL"), "default");
	strv_free(env);
}

static void test_environment_ignores_non_assignments(void **state)
{
	char *assigned[] = { "NOEQUALS", "=value", NULL };
	char **env;
	(void)state;
	env = job_environment(assigned, "default", "r1", 1);
	for (size_t i = 0; env[i]; i++) {
		assert_non_null(strchr(env[i], '='));
		assert_true(env[i][0] != '=');
		assert_null(strstr(env[i], "NOEQUALS"));
	}
	strv_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_timed_out_is_124),
		cmocka_unit_test(test_setup_failed_and_lost_are_255),
		cmocka_unit_test(test_get_failed),
		cmocka_unit_test(test_environment_base),
		cmocka_unit_test(test_environment_assignments_win),
		cmocka_unit_test(test_environment_ignores_non_assignments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
