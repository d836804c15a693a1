/*
 * Bounded buffer implementation. Storage grows geometrically up to the buffer's max; old storage
 * is wiped before release so no copy of a secret survives a reallocation.
 */
#include "base/vbuf.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

struct vbuf {
	uint8_t *d;
	size_t off; /* first unread byte */
	size_t len; /* end of written bytes */
	size_t cap;
	size_t max;
	int readonly;
};

struct vbuf *
vbuf_new(size_t max)
{
	struct vbuf *b = xcalloc(1, sizeof(*b));

	b->max = max > VBUF_MAX_ANY ? VBUF_MAX_ANY : max;
	return b;
}

struct vbuf *
vbuf_view(const void *data, size_t len)
{
	struct vbuf *b = xcalloc(1, sizeof(*b));

	b->d = (uint8_t *)(uintptr_t)data;
	b->len = len;
	b->cap = len;
	b->max = len;
	b->readonly = 1;
	return b;
}

void
vbuf_free(struct vbuf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly && b->d != NULL) {
		sodium_memzero(b->d, b->cap);
		free(b->d);
	}
	sodium_memzero(b, sizeof(*b));
	free(b);
}

void
vbuf_reset(struct vbuf *b)
{
	if (b->readonly) {
		b->off = 0;
		return;
	}
	if (b->d != NULL)
		sodium_memzero(b->d, b->cap);
	b->off = b->len = 0;
}

const uint8_t *
vbuf_ptr(const struct vbuf *b)
{
	static const uint8_t empty[1];

	return b->d != NULL ? b->d + b->off : empty;
}

size_t
vbuf_len(const struct vbuf *b)
{
	return b->len - b->off;
}

size_t
vbuf_max(const struct vbuf *b)
{
	return b->max;
}

/* Grows storage so that `need` bytes (plus one spare for vbuf_cstr) fit. */
static int
vbuf_grow(struct vbuf *b, size_t need)
{
	size_t ncap;
	uint8_t *nd;

	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need + 1) {
		if (ncap > SIZE_MAX / 2)
			return VT_ERR_TOO_LARGE;
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((nd = malloc(ncap)) == NULL)
		return VT_ERR_NOMEM;
	if (b->d != NULL) {
		memcpy(nd, b->d, b->len);
		sodium_memzero(b->d, b->cap);
		free(b->d);
	}
	b->d = nd;
	b->cap = ncap;
	return 0;
}

int
vbuf_reserve(struct vbuf *b, size_t n, uint8_t **p)
{
	int r;

	*p = NULL;
	if (b->readonly)
		return VT_ERR_INTERNAL;
	if (n > b->max || b->len > b->max - n)
		return VT_ERR_TOO_LARGE;
	if ((r = vbuf_grow(b, b->len + n)) != 0)
		return r;
	*p = b->d + b->len;
	b->len += n;
	return 0;
}

int
vbuf_put(struct vbuf *b, const void *data, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = vbuf_reserve(b, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(p, data, n);
	return 0;
}

int
vbuf_put_u8(struct vbuf *b, uint8_t v)
{
	return vbuf_put(b, &v, 1);
}

int
vbuf_put_u32(struct vbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return vbuf_put(b, x, sizeof(x));
}

int
vbuf_put_u64(struct vbuf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	return vbuf_put(b, x, sizeof(x));
}

int
vbuf_put_string(struct vbuf *b, const void *data, size_t n)
{
	uint8_t *p;
	int r;

	if (n > UINT32_MAX || n > SIZE_MAX - 4)
		return VT_ERR_TOO_LARGE;
	/* One reserve for prefix and data, so a failure leaves no orphaned length behind. */
	if ((r = vbuf_reserve(b, 4 + n, &p)) != 0)
		return r;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	if (n > 0)
		memcpy(p + 4, data, n);
	return 0;
}

int
vbuf_put_cstr(struct vbuf *b, const char *s)
{
	return vbuf_put(b, s, strlen(s));
}

int
vbuf_get_ptr(struct vbuf *b, size_t n, const uint8_t **p)
{
	*p = NULL;
	if (vbuf_len(b) < n)
		return VT_ERR_INVALID;
	*p = vbuf_ptr(b);
	b->off += n;
	return 0;
}

int
vbuf_get(struct vbuf *b, void *out, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = vbuf_get_ptr(b, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

int
vbuf_get_u8(struct vbuf *b, uint8_t *v)
{
	return vbuf_get(b, v, 1);
}

int
vbuf_get_u32(struct vbuf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	*v = 0;
	if ((r = vbuf_get_ptr(b, 4, &p)) != 0)
		return r;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
vbuf_get_u64(struct vbuf *b, uint64_t *v)
{
	const uint8_t *p;
	int r, i;

	*v = 0;
	if ((r = vbuf_get_ptr(b, 8, &p)) != 0)
		return r;
	for (i = 0; i < 8; i++)
		*v = (*v << 8) | p[i];
	return 0;
}

int
vbuf_get_string_ptr(struct vbuf *b, size_t max, const uint8_t **p, size_t *n)
{
	uint32_t len;
	size_t save = b->off;
	int r;

	*p = NULL;
	*n = 0;
	if ((r = vbuf_get_u32(b, &len)) != 0)
		return r;
	if (len > max || (r = vbuf_get_ptr(b, len, p)) != 0) {
		b->off = save;
		*p = NULL;
		return VT_ERR_INVALID;
	}
	*n = len;
	return 0;
}

int
vbuf_expect_end(const struct vbuf *b)
{
	return vbuf_len(b) == 0 ? 0 : VT_ERR_INVALID;
}

int
vbuf_cstr(struct vbuf *b, const char **s)
{
	int r;

	*s = NULL;
	if (b->readonly)
		return VT_ERR_INTERNAL;
	if ((r = vbuf_grow(b, b->len)) != 0)
		return r;
	b->d[b->len] = '\0';
	if (memchr(vbuf_ptr(b), '\0', vbuf_len(b)) != NULL)
		return VT_ERR_INVALID;
	*s = (const char *)vbuf_ptr(b);
	return 0;
}
