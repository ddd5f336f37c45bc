/* fuzz_fly_machine.c — the Fly Machines API's answers as the client reads
 * them: one Machine, a list of them, an error body.  Parsers never trust the
 * server: no crash, strings are never NULL, error texts are one printable
 * line of at most 300 bytes. */
#include "fuzz.h"
#include "fly_machine.h"

static void check_machine(const struct fly_machine *m)
{
	const char *s[] = { m->id,     m->name,  m->instance_id, m->state,       m->private_ip,
		            m->region, m->image, m->image_ref,   m->image_digest };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		FUZZ_CHECK(s[i] != NULL);
	FUZZ_CHECK(m->id[0]);
	for (size_t i = 0; i < m->nmeta; i++)
		FUZZ_CHECK(m->meta[i].key && m->meta[i].value);
	(void)fly_machine_meta(m, FLY_META_LAUNCH);
}

static void check_error_text(const uint8_t *data, size_t size)
{
	char *e = fly_error_text((const char *)data, size);
	size_t n = strlen(e);

	FUZZ_CHECK(n <= 300);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)e[i] >= 0x20 && e[i] != 0x7f);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fly_machine m, *v;
	size_t n;
	char err[512];

	/* the client hands over the body and its length, with no terminator */
	if (fly_machine_parse((const char *)data, size, &m, err, sizeof err) == 0) {
		check_machine(&m);
		fly_machine_free(&m);
	} else {
		FUZZ_CHECK(fuzz_one_line(err) && m.id == NULL);
	}
	if (fly_machines_parse((const char *)data, size, &v, &n, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++)
			check_machine(&v[i]);
		fly_machines_free(v, n);
	} else {
		FUZZ_CHECK(fuzz_one_line(err) && v == NULL && n == 0);
	}
	check_error_text(data, size);
	return 0;
}
