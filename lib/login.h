/* login.h — "user@host:port" as ssh(1) users write it; host may be a
 * name, IPv4, a bare IPv6 address or [IPv6].  Pure. */
#ifndef FLAME_LOGIN_H
#define FLAME_LOGIN_H

#include <stddef.h>

/* Missing parts keep the values already in user and port.  0, or -1 with a
 * one-line reason in err. */
int login_parse(const char *login, char *user, size_t userlen, char *host, size_t hostlen, int *port,
                char *err, size_t errlen);

#endif
