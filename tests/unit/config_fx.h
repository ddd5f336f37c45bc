/* config_fx.h — what test_config*.c share: parsing a text as flame.json,
 * and checking the one-line errors it gives. */
#ifndef FLAME_TEST_CONFIG_FX_H
#define FLAME_TEST_CONFIG_FX_H

static char err[1024];

static __attribute__((unused)) int parse(struct config *cfg, const char *text)
{
	memset(cfg, 0, sizeof *cfg);
	err[0] = 0;
	return config_parse(cfg, text, "flame.json", err, sizeof err);
}

static __attribute__((unused)) void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		print_error("\"%s\" does not contain \"%s\"\n", hay, needle);
	assert_non_null(strstr(hay, needle));
}

static __attribute__((unused)) void one_line(const char *s)
{
	assert_true(s[0] != 0);
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\r'));
}

/* Parsing TEXT must fail, the message naming the file, pool and setting. */
static __attribute__((unused)) void refused(const char *text, const char *pool, const char *setting)
{
	struct config cfg;
	char want[128];
	int rc = parse(&cfg, text);
	if (rc != -1)
		print_error("accepted: %s\n", text);
	assert_int_equal(rc, -1);
	one_line(err);
	assert_true(!strncmp(err, "flame.json", 10));
	if (pool) {
		snprintf(want, sizeof want, "'%s'", pool);
		contains(err, want);
	}
	if (setting)
		contains(err, setting);
	config_free(&cfg);
}

#endif
