/*
 * Guarded memory for keys and plaintext secret values: libsodium sodium_malloc (guard pages,
 * canary, mlock'd, excluded from core dumps), wiped and released by secmem_free. A secret has its
 * own opaque type so it cannot reach printf("%s") or a log line by accident; callers read the
 * bytes only through secmem_ptr(). Under ASan builds the allocation falls back to malloc + wipe so
 * the sanitizer sees overflows and leaks.
 */
#ifndef VT_BASE_SECMEM_H
#define VT_BASE_SECMEM_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define SECMEM_MAX ((size_t)16 << 20) /* no single secret is larger than 16 MiB */

struct secmem;

/* Global init (sodium_init); call once before any secret exists. 0 or VT_ERR_INTERNAL. */
int secmem_init(void) VT_WUR;

/* Zeroed guarded buffer of len bytes (len ≤ SECMEM_MAX), or NULL. Owned by the caller. */
struct secmem *secmem_new(size_t len) VT_WUR;
/* Guarded copy of data; NULL on failure. The caller still wipes its own copy. */
struct secmem *secmem_dup(const void *data, size_t len) VT_WUR;
/* Wipes and frees; NULL-safe. */
void secmem_free(struct secmem *s);

uint8_t *secmem_ptr(const struct secmem *s);
size_t secmem_len(const struct secmem *s);
/* Shrinks the logical length (after decoding into an over-sized buffer); never grows. */
void secmem_truncate(struct secmem *s, size_t len);

/* Constant-time equality of two secrets. */
int secmem_eq(const struct secmem *a, const struct secmem *b) VT_WUR;

/*
 * For a process that holds secrets outside guarded memory too (parsed input, an API response):
 * no core dump (RLIMIT_CORE 0) and not dumpable, so no ptrace and no /proc/PID/mem by other
 * processes of the same user. Inherited by fork, reset by exec. 0, or VT_ERR_IO (errno set)
 * after trying both (best effort where nothing better can be done: the result may be ignored).
 */
int secmem_no_dumps(void);

#endif
