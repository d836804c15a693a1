/*
 * Guarded secret memory on libsodium. The logical length may be smaller than the allocation
 * (decoders size for the worst case, then truncate); the whole allocation is wiped on free.
 *
 * sodium_malloc costs several system calls (mmap, mprotect for the guard pages, mlock), which
 * was a quarter of a reveal's CPU time. Small secrets (keys, DEKs, most field sets) therefore use
 * one size class whose buffers are kept, wiped, in a small per-thread cache and reused: still
 * guarded, locked and excluded from dumps, without the system calls. A reused buffer may be
 * larger than the request, so an overflow past the logical length but inside the class is not
 * caught by the guard page; the logical length is what every caller uses.
 */
#include "base/secmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "base/err.h"

struct secmem {
	uint8_t *p;
	size_t len;
	size_t alloc;
};

#define SECMEM_CLASS 4000      /* fits one page with libsodium's canary and alignment */
#define SECMEM_CACHE_SLOTS 16  /* per thread */

#ifndef VT_ASAN
static _Thread_local uint8_t *cache[SECMEM_CACHE_SLOTS];
static _Thread_local int ncache;
#endif

int
secmem_init(void)
{
	return sodium_init() < 0 ? VT_ERR_INTERNAL : 0;
}

struct secmem *
secmem_new(size_t len)
{
	struct secmem *s;
	size_t alloc = len == 0 ? 1 : len;

	if (len > SECMEM_MAX)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
#ifdef VT_ASAN
	s->p = malloc(alloc);
#else
	if (alloc <= SECMEM_CLASS) {
		alloc = SECMEM_CLASS;
		s->p = ncache > 0 ? cache[--ncache] : sodium_malloc(alloc);
	} else {
		s->p = sodium_malloc(alloc);
	}
#endif
	if (s->p == NULL) {
		free(s);
		return NULL;
	}
	sodium_memzero(s->p, alloc);
	s->len = len;
	s->alloc = alloc;
	return s;
}

struct secmem *
secmem_dup(const void *data, size_t len)
{
	struct secmem *s = secmem_new(len);

	if (s != NULL && len > 0)
		memcpy(s->p, data, len);
	return s;
}

void
secmem_free(struct secmem *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s->p, s->alloc);
#ifdef VT_ASAN
	free(s->p);
#else
	if (s->alloc == SECMEM_CLASS && ncache < SECMEM_CACHE_SLOTS)
		cache[ncache++] = s->p; /* wiped above */
	else
		sodium_free(s->p);
#endif
	free(s);
}

uint8_t *
secmem_ptr(const struct secmem *s)
{
	return s->p;
}

size_t
secmem_len(const struct secmem *s)
{
	return s->len;
}

void
secmem_truncate(struct secmem *s, size_t len)
{
	VT_ASSERT(len <= s->len);
	sodium_memzero(s->p + len, s->len - len);
	s->len = len;
}

int
secmem_eq(const struct secmem *a, const struct secmem *b)
{
	if (a->len != b->len)
		return 0;
	return sodium_memcmp(a->p, b->p, a->len) == 0;
}

int
secmem_no_dumps(void)
{
	struct rlimit rl = { 0, 0 };
	int e = 0;

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		e = errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		e = errno;
	if (e != 0) {
		errno = e;
		return VT_ERR_IO;
	}
	return 0;
}
