/*
 * Always-on assertion and allocation wrappers. Aborting on OOM is the right answer for the small
 * fixed allocations that use these; attacker-sized buffers use vbuf's fallible API instead.
 */
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void
vt_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "vaultterm: assertion failed: %s (%s:%d %s)\n", expr, file, line, func);
	abort();
}

static VT_NORETURN void
oom(size_t n)
{
	fprintf(stderr, "vaultterm: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	VT_ASSERT(n >= 0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
vt_str_wipe_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

int
vt_ct_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned int d = 0;
	size_t i;

	/*
	 * Every byte is read whatever the data; the barrier keeps the compiler from turning the
	 * accumulation into an early exit. sodium_memcmp does the same with volatile reads, which
	 * made it a sixth of the offline verifier's time on 32-byte hashes.
	 */
	for (i = 0; i < n; i++) {
		d |= (unsigned int)(x[i] ^ y[i]);
		__asm__ __volatile__("" : "+r"(d));
	}
	return (int)(1 & ((d - 1) >> 8));
}
