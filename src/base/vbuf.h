/*
 * Bounded byte buffer in the spirit of OpenSSH's sshbuf: every buffer has a mandatory maximum,
 * every growth is overflow-checked, typed big-endian get/put, read-only views over borrowed bytes,
 * and the contents are wiped on free. Decoders call vbuf_expect_end() so trailing bytes are an
 * error rather than silently ignored.
 */
#ifndef VT_BASE_VBUF_H
#define VT_BASE_VBUF_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define VBUF_MAX_ANY ((size_t)1 << 30) /* absolute ceiling for any buffer: 1 GiB */

struct vbuf;

/* New empty writable buffer that refuses to grow past max bytes. Never NULL. Free with vbuf_free. */
struct vbuf *vbuf_new(size_t max);
/* Read-only view over borrowed bytes (valid while they are); puts fail with VT_ERR_INTERNAL. */
struct vbuf *vbuf_view(const void *data, size_t len);
/* Wipes the contents and frees; NULL-safe. */
void vbuf_free(struct vbuf *b);
/* Drops the contents (wiped) but keeps the buffer usable. */
void vbuf_reset(struct vbuf *b);

/* Pointer to the unread bytes and how many there are. */
const uint8_t *vbuf_ptr(const struct vbuf *b);
size_t vbuf_len(const struct vbuf *b);
size_t vbuf_max(const struct vbuf *b);

/* Makes room for n more bytes at the end; *p points at them. VT_ERR_TOO_LARGE past max. */
int vbuf_reserve(struct vbuf *b, size_t n, uint8_t **p) VT_WUR;
int vbuf_put(struct vbuf *b, const void *data, size_t n) VT_WUR;
int vbuf_put_u8(struct vbuf *b, uint8_t v) VT_WUR;
int vbuf_put_u32(struct vbuf *b, uint32_t v) VT_WUR;
int vbuf_put_u64(struct vbuf *b, uint64_t v) VT_WUR;
/* u32 big-endian length followed by the bytes. */
int vbuf_put_string(struct vbuf *b, const void *data, size_t n) VT_WUR;
int vbuf_put_cstr(struct vbuf *b, const char *s) VT_WUR;

/* Consuming getters: VT_ERR_INVALID when fewer bytes remain than needed; nothing consumed then. */
int vbuf_get(struct vbuf *b, void *out, size_t n) VT_WUR;
int vbuf_get_u8(struct vbuf *b, uint8_t *v) VT_WUR;
int vbuf_get_u32(struct vbuf *b, uint32_t *v) VT_WUR;
int vbuf_get_u64(struct vbuf *b, uint64_t *v) VT_WUR;
/* Borrow n bytes in place (valid until the buffer changes) and consume them. */
int vbuf_get_ptr(struct vbuf *b, size_t n, const uint8_t **p) VT_WUR;
/* Borrow a u32-length-prefixed string in place; VT_ERR_INVALID if its length exceeds max. */
int vbuf_get_string_ptr(struct vbuf *b, size_t max, const uint8_t **p, size_t *n) VT_WUR;
/* VT_ERR_INVALID if unread bytes remain. */
int vbuf_expect_end(const struct vbuf *b) VT_WUR;

/*
 * NUL-terminated view of the contents for text parsers: appends a NUL outside the logical length
 * (so vbuf_len is unchanged). VT_ERR_INVALID if the contents contain a NUL byte.
 */
int vbuf_cstr(struct vbuf *b, const char **s) VT_WUR;

#endif
