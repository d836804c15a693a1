/*
 * Small always-on helpers shared by every area: attribute macros, the abort-on-broken-invariant
 * assertion, and allocation wrappers for small fixed sizes that may abort on OOM. Sizes that a
 * peer controls never go through xmalloc(); they use the fallible paths of vbuf.
 */
#ifndef VT_BASE_UTIL_H
#define VT_BASE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define VT_WUR __attribute__((warn_unused_result))
#define VT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VT_NORETURN __attribute__((noreturn))
#define VT_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__SANITIZE_ADDRESS__)
#define VT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VT_ASAN 1
#endif
#endif

/* Aborts with file/line on a broken invariant. Always on, also in release builds. */
#define VT_ASSERT(e) ((e) ? (void)0 : vt_assert_fail(#e, __FILE__, __LINE__, __func__))

VT_NORETURN void vt_assert_fail(const char *expr, const char *file, int line, const char *func);

/* Allocation for small, fixed sizes: never returns NULL (aborts on OOM). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xasprintf: formatted, allocated string; never NULL. Caller frees. */
char *xasprintf(const char *fmt, ...) VT_PRINTF(1, 2);

/* Frees a NUL-terminated string after wiping it (for strings that held credentials). */
void vt_str_wipe_free(char *s);

/* Constant-time equality of two buffers of the same length. */
int vt_ct_eq(const void *a, const void *b, size_t n) VT_WUR;

#endif
