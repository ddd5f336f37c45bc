/* registry.c — the table of backends a pool's "backend" setting names. */
#include "backend.h"

#include <string.h>

static const struct backend *const backends[] = {
	&backend_local,
	&backend_ssh,
	&backend_fly,
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}
