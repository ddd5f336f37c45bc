/* keys.h — the client key of each pool: ed25519, made on first use with
 * OpenSSH's ssh-keygen, kept 0600 in a 0700 directory under
 * $XDG_STATE_HOME/flame/keys/.  Creation is atomic (temporary names, then
 * rename) and serialised with a lock, so concurrent first uses agree on one
 * key and no half-written key is ever seen. */
#ifndef FLAME_KEYS_H
#define FLAME_KEYS_H

#include <stddef.h>

/* The private key's path (malloc'd), creating the key if needed; *pub gets
 * the public key line without its newline (malloc'd).  NULL with err. */
char *keys_pool_key(const char *pool, char **pub, char *err, size_t errlen);

#endif
