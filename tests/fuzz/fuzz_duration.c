/* fuzz_duration.c — duration_parse() on any text, and the round trip:
 * whatever duration_format() prints parses back to the same milliseconds. */
#include "fuzz.h"
#include "duration.h"

#define MAX_MS (30LL * 24 * 3600 * 1000)

static void round_trip(int64_t ms)
{
	char buf[64];
	int64_t back = -1;

	duration_format(ms, buf, sizeof buf);
	if (duration_parse(buf, &back) != 0 || back != ms) {
		fprintf(stderr, "property broken: %lld ms prints as \"%s\", which reads back as %lld\n",
		        (long long)ms, buf, (long long)back);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	int64_t ms = -1;
	uint64_t raw = 0;

	if (duration_parse(s, &ms) == 0) {
		FUZZ_CHECK(ms >= 0 && ms <= MAX_MS);
		round_trip(ms);
	}
	free(s);
	/* the first 8 bytes as a number of ms within the range */
	memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
	round_trip((int64_t)(raw % (uint64_t)(MAX_MS + 1)));
	return 0;
}
