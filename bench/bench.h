/*
 * What the C benchmarks in bench/ share: the scanning thread's CPU clock (so another process on
 * the core does not count against the code measured), a seeded xorshift generator (the same
 * input every run), and reading a corpus file whole.
 */
#ifndef VT_BENCH_H
#define VT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds of CPU time of the calling thread. */
static inline double
bench_cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* xorshift64: the next value of *state (never 0 if the seed is not). */
static inline uint64_t
bench_next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* The whole of a non-empty file, NUL-terminated (malloc'd), its length in *n; NULL if unread. */
static inline uint8_t *
bench_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)len + 1)) == NULL ||
	    fread(b, 1, (size_t)len, f) != (size_t)len) {
		free(b);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	b[len] = '\0';
	*n = (size_t)len;
	return b;
}

#endif
