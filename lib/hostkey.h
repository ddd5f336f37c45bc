/* ssh_hostkey.h — a new ed25519 key pair in OpenSSH's formats, made in
 * memory (OpenSSL), for a runner machine's host key: the private key as an
 * unencrypted "OPENSSH PRIVATE KEY" file and the public half as an
 * "ssh-ed25519 AAAA..." line.  ssh-keygen would cost a process start (~8 ms)
 * on every cold start, and the key never needs to touch a disk here. */
#ifndef FLAME_SSH_HOSTKEY_H
#define FLAME_SSH_HOSTKEY_H

#include <stddef.h>

/* 0 with *priv (malloc'd, *privlen bytes; wipe it when done) and pub filled;
 * -1 with err. */
int ssh_hostkey_new(const char *comment, char **priv, size_t *privlen, char *pub, size_t publen, char *err,
                    size_t errlen);

#endif
