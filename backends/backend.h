/* backend.h — the backends flame has, each implementing the interface the
 * warmer defines (lib/warmer/backend_api.h). */
#ifndef FLAME_BACKEND_H
#define FLAME_BACKEND_H

#include "warmer/backend_api.h"

const struct backend *backend_find(const char *name);

extern const struct backend backend_local;
extern const struct backend backend_ssh;
extern const struct backend backend_fly;

#endif
