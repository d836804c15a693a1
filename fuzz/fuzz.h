/*
 * Shared helpers of the libFuzzer harnesses: the entry-point prototypes (the build uses
 * -Wmissing-prototypes), an always-on invariant check that traps so libFuzzer records the input,
 * and a NUL-terminated copy of the input for the parsers that take C strings. The copy is an exact
 * heap allocation so ASan sees any read past the terminator.
 */
#ifndef VT_FUZZ_FUZZ_H
#define VT_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant is a bug in src/: say which, then trap (libFuzzer saves the crash input). */
#define FUZZ_CHECK(e)                                                                       \
	do {                                                                                \
		if (!(e)) {                                                                 \
			fprintf(stderr, "fuzz: invariant failed: %s (%s:%d)\n", #e, __FILE__, \
			    __LINE__);                                                      \
			__builtin_trap();                                                   \
		}                                                                           \
	} while (0)

/* The input as a new NUL-terminated string (it may hold earlier NULs). Caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
