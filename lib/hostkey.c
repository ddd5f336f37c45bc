/* ssh_hostkey.c — see ssh_hostkey.h.  The private key file is OpenSSH's
 * PROTOCOL.key format: "openssh-key-v1\0", cipher and KDF "none", one
 * public key, then the private section (two equal check words, the key,
 * the comment, padding 1, 2, 3... to a multiple of 8), base64 in lines of
 * 70 between the BEGIN and END lines. */
#include "hostkey.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
		               (unsigned char)v };
	put(b, x, 4);
}

static void put_str(struct buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	put(b, p, n);
}

static void put_cstr(struct buf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

static char *base64(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static void wipe(struct buf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
}

/* The key's raw halves: a random seed and the public point it gives. */
static int raw_pair(unsigned char seed[32], unsigned char pub[32])
{
	EVP_PKEY *k;
	size_t n = 32;
	int rc;

	if (getrandom(seed, 32, 0) != 32)
		return -1;
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	rc = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32 ? 0 : -1;
	EVP_PKEY_free(k);
	return rc;
}

static char *armor(const struct buf *blob, size_t *len)
{
	char *b64 = base64(blob->p, blob->len), *out;
	size_t n = strlen(b64), o = 0;
	static const char head[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char tail[] = "-----END OPENSSH PRIVATE KEY-----\n";

	out = xmalloc(sizeof head + n + n / 70 + 2 + sizeof tail);
	memcpy(out, head, sizeof head - 1);
	o = sizeof head - 1;
	for (size_t i = 0; i < n; i += 70) {
		size_t k = n - i < 70 ? n - i : 70;
		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	memcpy(out + o, tail, sizeof tail);
	o += sizeof tail - 1;
	OPENSSL_cleanse(b64, n);
	free(b64);
	*len = o;
	return out;
}

int ssh_hostkey_new(const char *comment, char **priv, size_t *privlen, char *pub, size_t publen, char *err,
                    size_t errlen)
{
	unsigned char seed[32], pk[32], both[64];
	struct buf pubblob = { 0 }, sec = { 0 }, file = { 0 };
	uint32_t check;
	char *b64;

	if (raw_pair(seed, pk) < 0 || getrandom(&check, sizeof check, 0) != (ssize_t)sizeof check) {
		snprintf(err, errlen, "cannot make an ed25519 host key (OpenSSL)");
		return -1;
	}
	memcpy(both, seed, 32);
	memcpy(both + 32, pk, 32);
	put_cstr(&pubblob, "ssh-ed25519");
	put_str(&pubblob, pk, 32);
	put_u32(&sec, check);
	put_u32(&sec, check);
	put_cstr(&sec, "ssh-ed25519");
	put_str(&sec, pk, 32);
	put_str(&sec, both, 64);
	put_cstr(&sec, comment);
	for (unsigned char pad = 1; sec.len % 8; pad++)
		put(&sec, &pad, 1);
	put(&file, "openssh-key-v1", 15); /* with its NUL */
	put_cstr(&file, "none");
	put_cstr(&file, "none");
	put_cstr(&file, "");
	put_u32(&file, 1);
	put_str(&file, pubblob.p, pubblob.len);
	put_str(&file, sec.p, sec.len);
	*priv = armor(&file, privlen);
	b64 = base64(pubblob.p, pubblob.len);
	snprintf(pub, publen, "ssh-ed25519 %s", b64);
	free(b64);
	OPENSSL_cleanse(seed, sizeof seed);
	OPENSSL_cleanse(both, sizeof both);
	wipe(&sec);
	wipe(&file);
	free(pubblob.p);
	return 0;
}
