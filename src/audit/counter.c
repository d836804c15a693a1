/*
 * The license counter file: strict parsing (MAC first, in constant time, then the exact syntax),
 * atomic durable replacement, and the reserve/commit/rebase protocol on top. Every file operation
 * is relative to a descriptor of the parent directory opened once in counter_open, with
 * O_NOFOLLOW on the last component, so a symlink swapped into the directory later is refused
 * rather than followed, and the directory fsync after a rename covers the same directory the
 * rename happened in. The lock lives on a separate "<path>.lock" file because rename() replaces
 * the state file's inode on every write, and a lock on a replaced inode locks nothing.
 */
#include "audit/counter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"
#include "crypto/hash.h"

#define COUNTER_HEADER "vaultterm-license-state 1\n"
#define COUNTER_MAC_TAG "mac "
#define COUNTER_MAC_HEX (2 * HASH_SHA256_LEN)
/* "mac " ‖ 64 hex ‖ "\n": always the last bytes of the file. */
#define COUNTER_MAC_LINE (sizeof(COUNTER_MAC_TAG) - 1 + COUNTER_MAC_HEX + 1)
#define COUNTER_TMP_SUFFIX ".tmp"
#define COUNTER_LOCK_SUFFIX ".lock"

struct license_counter {
	pthread_mutex_t mu;
	int dirfd;
	int lockfd;
	char *path;  /* as given, for log lines */
	char *name;  /* last component, relative to dirfd */
	char *tmp;   /* name ‖ ".tmp" */
	struct secmem *key;
};

/* HMAC-SHA256(key, body) as lower-case hex into hex[COUNTER_MAC_HEX + 1]. */
static int
counter_mac_hex(const struct license_counter *c, const char *body, size_t len, char *hex)
{
	uint8_t mac[HMAC_MAX_LEN];
	size_t maclen = 0;
	int r;

	if ((r = hmac_compute(HMAC_SHA256, secmem_ptr(c->key), secmem_len(c->key), body, len, mac,
	    &maclen)) != 0)
		return r;
	if (maclen != HASH_SHA256_LEN)
		return VT_ERR_CRYPTO;
	hex_encode(mac, HASH_SHA256_LEN, hex);
	return 0;
}

/*
 * Reads a "<key> <decimal>\n" line at *pos of buf[0 .. len): no sign, no leading zero, 1 to
 * COUNTER_DIGITS_MAX digits, no overflow, at most COUNTER_MAX. Advances *pos past the newline.
 */
static int
counter_parse_line(const char *buf, size_t len, size_t *pos, const char *key, uint64_t *out)
{
	size_t klen = strlen(key), i = *pos, start;
	uint64_t v = 0;

	*out = 0;
	if (len - i < klen + 1 || strncmp(buf + i, key, klen) != 0 || buf[i + klen] != ' ')
		return VT_ERR_INVALID;
	i += klen + 1;
	start = i;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		unsigned d = (unsigned)(buf[i] - '0');

		if (i - start >= COUNTER_DIGITS_MAX || v > (UINT64_MAX - d) / 10)
			return VT_ERR_INVALID;
		v = v * 10 + d;
		i++;
	}
	if (i == start || (buf[start] == '0' && i - start > 1))
		return VT_ERR_INVALID;
	if (i >= len || buf[i] != '\n' || v > COUNTER_MAX)
		return VT_ERR_INVALID;
	*pos = i + 1;
	*out = v;
	return 0;
}

/*
 * Verifies and parses a whole file. The MAC line must be the last COUNTER_MAC_LINE bytes and is
 * checked before anything else is believed; then the body must be exactly the three lines.
 */
static int
counter_parse(const struct license_counter *c, const char *buf, size_t len,
    struct counter_state *st)
{
	const size_t taglen = sizeof(COUNTER_MAC_TAG) - 1;
	char want[COUNTER_MAC_HEX + 1];
	const char *mac;
	size_t body, pos, i;
	struct counter_state s;
	int r;

	memset(st, 0, sizeof(*st));
	if (len > COUNTER_FILE_MAX || len < sizeof(COUNTER_HEADER) - 1 + COUNTER_MAC_LINE)
		return VT_ERR_INVALID;
	body = len - COUNTER_MAC_LINE;
	mac = buf + body;
	if (strncmp(mac, COUNTER_MAC_TAG, taglen) != 0 || buf[len - 1] != '\n')
		return VT_ERR_INVALID;
	/* Only lower-case hex is the format; the MAC value itself is public. */
	for (i = 0; i < COUNTER_MAC_HEX; i++) {
		char ch = mac[taglen + i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return VT_ERR_INVALID;
	}
	if ((r = counter_mac_hex(c, buf, body, want)) != 0)
		return r;
	if (!vt_ct_eq(want, mac + taglen, COUNTER_MAC_HEX))
		return VT_ERR_VERIFY;

	/* Authentic from here on, but still parsed strictly: a bug must not write what we accept. */
	pos = sizeof(COUNTER_HEADER) - 1;
	if (strncmp(buf, COUNTER_HEADER, pos) != 0)
		return VT_ERR_INVALID;
	if ((r = counter_parse_line(buf, body, &pos, "committed", &s.committed)) != 0 ||
	    (r = counter_parse_line(buf, body, &pos, "reserved", &s.reserved)) != 0)
		return r;
	if (pos != body || s.committed > s.reserved)
		return VT_ERR_INVALID;
	*st = s;
	return 0;
}

/* Refuses what is not a regular file writable only by its owner. */
static int
counter_check_stat(const struct license_counter *c, const struct stat *sb, const char *what)
{
	if (!S_ISREG(sb->st_mode)) {
		log_error("license counter %s%s is not a regular file; refusing it", c->path, what);
		return VT_ERR_CONFIG;
	}
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_error("license counter %s%s is writable by group or others (mode %03o); refusing "
		    "it (chmod 600)", c->path, what, (unsigned)(sb->st_mode & 0777));
		return VT_ERR_CONFIG;
	}
	return 0;
}

static int
counter_read_locked(struct license_counter *c, struct counter_state *st)
{
	char buf[COUNTER_FILE_MAX + 1];
	struct stat sb;
	size_t len = 0;
	int fd = -1, r = VT_ERR_INTERNAL;

	memset(st, 0, sizeof(*st));
	/* O_NONBLOCK: a FIFO planted at the path must not hang the server before fstat refuses it. */
	fd = openat(c->dirfd, c->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			r = VT_ERR_NOT_FOUND;
		} else if (errno == ELOOP) {
			log_error("license counter %s is a symlink; refusing it", c->path);
			r = VT_ERR_CONFIG;
		} else {
			log_error("cannot open license counter %s: %s", c->path, strerror(errno));
			r = VT_ERR_IO;
		}
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		log_error("cannot stat license counter %s: %s", c->path, strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	if ((r = counter_check_stat(c, &sb, "")) != 0)
		goto out;
	if (sb.st_size > (off_t)COUNTER_FILE_MAX) {
		r = VT_ERR_INVALID;
		goto out;
	}
	/* Read one byte past the limit so a file that grew after fstat is still refused. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("cannot read license counter %s: %s", c->path, strerror(errno));
			r = VT_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = counter_parse(c, buf, len, st);
	if (r == VT_ERR_VERIFY)
		log_error("license counter %s fails its MAC (tampered, or another master key)",
		    c->path);
	else if (r == VT_ERR_INVALID)
		log_error("license counter %s is malformed", c->path);
 out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int
counter_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return VT_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
counter_write_locked(struct license_counter *c, const struct counter_state *st)
{
	char buf[COUNTER_FILE_MAX + 1];
	char hex[COUNTER_MAC_HEX + 1];
	struct stat sb;
	int fd = -1, n, r = VT_ERR_INTERNAL, tmp_made = 0;

	if (st->committed > st->reserved || st->reserved > COUNTER_MAX)
		return VT_ERR_RANGE;
	/* Never silently replace a symlink, directory or device the operator put at the path. */
	if (fstatat(c->dirfd, c->name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(sb.st_mode)) {
			log_error("license counter %s is a symlink; refusing it", c->path);
			return VT_ERR_CONFIG;
		}
		if (!S_ISREG(sb.st_mode))
			return counter_check_stat(c, &sb, "");
	} else if (errno != ENOENT) {
		log_error("cannot stat license counter %s: %s", c->path, strerror(errno));
		return VT_ERR_IO;
	}

	n = snprintf(buf, sizeof(buf), COUNTER_HEADER "committed %" PRIu64 "\nreserved %" PRIu64
	    "\n", st->committed, st->reserved);
	VT_ASSERT(n > 0 && (size_t)n + COUNTER_MAC_LINE <= COUNTER_FILE_MAX);
	if ((r = counter_mac_hex(c, buf, (size_t)n, hex)) != 0)
		goto out;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, COUNTER_MAC_TAG "%s\n", hex);
	VT_ASSERT((size_t)n <= COUNTER_FILE_MAX);

	/* A crash can leave a stale .tmp (or someone can plant one): remove it, then create ours. */
	if (unlinkat(c->dirfd, c->tmp, 0) != 0 && errno != ENOENT) {
		log_error("cannot remove stale %s%s: %s", c->path, COUNTER_TMP_SUFFIX,
		    strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	fd = openat(c->dirfd, c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("cannot create %s%s: %s", c->path, COUNTER_TMP_SUFFIX, strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	tmp_made = 1;
	if (counter_write_all(fd, buf, (size_t)n) != 0 || fsync(fd) != 0) {
		log_error("cannot write %s%s: %s", c->path, COUNTER_TMP_SUFFIX, strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		log_error("cannot close %s%s: %s", c->path, COUNTER_TMP_SUFFIX, strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	fd = -1;
	if (renameat(c->dirfd, c->tmp, c->dirfd, c->name) != 0) {
		log_error("cannot rename over license counter %s: %s", c->path, strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	tmp_made = 0;
	/* The rename is durable only once the directory is. */
	if (fsync(c->dirfd) != 0) {
		log_error("cannot fsync the directory of license counter %s: %s", c->path,
		    strerror(errno));
		r = VT_ERR_IO;
		goto out;
	}
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		(void)unlinkat(c->dirfd, c->tmp, 0);
	return r;
}

/* Splits path into a directory (opened) and the last component (copied). */
static int
counter_open_dir(struct license_counter *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (slash == NULL) {
		dir = xstrdup(".");
		c->name = xstrdup(path);
	} else {
		dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
		c->name = xstrdup(slash + 1);
	}
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		log_error("cannot open the directory of license counter %s: %s", path,
		    strerror(errno));
		free(dir);
		return errno == ENOENT || errno == ENOTDIR ? VT_ERR_CONFIG : VT_ERR_IO;
	}
	free(dir);
	return 0;
}

int
counter_open(const char *path, const uint8_t key[static COUNTER_KEY_LEN],
    struct license_counter **out)
{
	struct license_counter *c = NULL;
	char *lockname = NULL;
	struct stat sb;
	size_t len;
	int r = VT_ERR_INTERNAL;

	*out = NULL;
	len = path == NULL ? 0 : strnlen(path, COUNTER_PATH_MAX + 1);
	if (len == 0 || len > COUNTER_PATH_MAX || path[len - 1] == '/')
		return VT_ERR_INVALID;
	c = xcalloc(1, sizeof(*c));
	c->dirfd = -1;
	c->lockfd = -1;
	c->path = xstrdup(path);
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->path);
		free(c);
		return VT_ERR_INTERNAL;
	}
	if ((c->key = secmem_dup(key, COUNTER_KEY_LEN)) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	if ((r = counter_open_dir(c, path)) != 0)
		goto out;
	if (strcmp(c->name, ".") == 0 || strcmp(c->name, "..") == 0) {
		r = VT_ERR_INVALID;
		goto out;
	}
	c->tmp = xasprintf("%s%s", c->name, COUNTER_TMP_SUFFIX);
	lockname = xasprintf("%s%s", c->name, COUNTER_LOCK_SUFFIX);
	c->lockfd = openat(c->dirfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (c->lockfd < 0) {
		log_error("cannot open %s%s: %s", path, COUNTER_LOCK_SUFFIX, strerror(errno));
		r = errno == ELOOP ? VT_ERR_CONFIG : VT_ERR_IO;
		goto out;
	}
	if (fstat(c->lockfd, &sb) != 0) {
		r = VT_ERR_IO;
		goto out;
	}
	if ((r = counter_check_stat(c, &sb, COUNTER_LOCK_SUFFIX)) != 0)
		goto out;
	/* Per open file description: a second handle in this process conflicts too. */
	while ((r = flock(c->lockfd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (r != 0) {
		if (errno == EWOULDBLOCK) {
			log_error("license counter %s is locked by another process (another server "
			    "on this data directory?)", path);
			r = VT_ERR_CONFLICT;
		} else {
			log_error("cannot lock %s%s: %s", path, COUNTER_LOCK_SUFFIX,
			    strerror(errno));
			r = VT_ERR_IO;
		}
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	free(lockname);
	counter_close(c);
	return r;
}

int
counter_read(struct license_counter *c, struct counter_state *st)
{
	int r;

	pthread_mutex_lock(&c->mu);
	r = counter_read_locked(c, st);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int
counter_write(struct license_counter *c, const struct counter_state *st)
{
	int r;

	pthread_mutex_lock(&c->mu);
	r = counter_write_locked(c, st);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int
counter_reserve(struct license_counter *c, uint64_t db_max, uint64_t *next)
{
	struct counter_state st, ns;
	uint64_t base;
	int r = VT_ERR_INTERNAL;

	*next = 0;
	if (db_max > COUNTER_MAX)
		return VT_ERR_RANGE;
	pthread_mutex_lock(&c->mu);
	if ((r = counter_read_locked(c, &st)) != 0)
		goto out;
	if (db_max < st.committed) {
		log_error("license counter %s: the database's newest checkpoint counter %" PRIu64
		    " is below the committed %" PRIu64 "; refusing to reserve until an operator "
		    "rebases", c->path, db_max, st.committed);
		r = VT_ERR_CONFLICT;
		goto out;
	}
	if (db_max > st.reserved)
		log_warn("license counter %s is behind the database (%" PRIu64 " > reserved %" PRIu64
		    "); continuing from the database", c->path, db_max, st.reserved);
	base = db_max > st.reserved ? db_max : st.reserved;
	if (base >= COUNTER_MAX) {
		r = VT_ERR_RANGE;
		goto out;
	}
	ns.committed = db_max; /* db_max >= st.committed here */
	ns.reserved = base + 1;
	if ((r = counter_write_locked(c, &ns)) != 0)
		goto out;
	*next = ns.reserved;
	r = 0;
 out:
	pthread_mutex_unlock(&c->mu);
	return r;
}

int
counter_commit(struct license_counter *c, uint64_t value)
{
	struct counter_state st;
	int r = VT_ERR_INTERNAL;

	pthread_mutex_lock(&c->mu);
	if ((r = counter_read_locked(c, &st)) != 0)
		goto out;
	if (value > st.reserved) {
		log_error("license counter %s: commit of %" PRIu64 " that was never reserved "
		    "(reserved %" PRIu64 ")", c->path, value, st.reserved);
		r = VT_ERR_RANGE;
		goto out;
	}
	if (value <= st.committed) {
		r = 0;
		goto out;
	}
	st.committed = value;
	r = counter_write_locked(c, &st);
 out:
	pthread_mutex_unlock(&c->mu);
	return r;
}

enum counter_verdict
counter_check(const struct counter_state *st, uint64_t db_max, char *reason, size_t reason_len)
{
	enum counter_verdict v;
	char line[COUNTER_REASON_MAX];

	if (st == NULL && db_max == 0) {
		v = COUNTER_OK;
		snprintf(line, sizeof(line), "no license counter file and no checkpoints: first boot");
	} else if (st == NULL) {
		v = COUNTER_MISSING;
		snprintf(line, sizeof(line), "the license counter file is missing but the database "
		    "has checkpoints up to counter %" PRIu64 ": state was deleted or rolled back",
		    db_max);
	} else {
		VT_ASSERT(st->committed <= st->reserved);
		if (db_max < st->committed) {
			v = COUNTER_ROLLBACK;
			snprintf(line, sizeof(line), "database checkpoint counter %" PRIu64 " is "
			    "below the committed license counter %" PRIu64 ": checkpoints were lost "
			    "or the database was restored", db_max, st->committed);
		} else if (db_max > st->reserved) {
			v = COUNTER_AHEAD;
			snprintf(line, sizeof(line), "database checkpoint counter %" PRIu64 " is above "
			    "the reserved license counter %" PRIu64 ": another server sequenced or the "
			    "counter file is older than the database", db_max, st->reserved);
		} else {
			v = COUNTER_OK;
			snprintf(line, sizeof(line), "database checkpoint counter %" PRIu64 " within "
			    "committed %" PRIu64 " .. reserved %" PRIu64, db_max, st->committed,
			    st->reserved);
		}
	}
	if (v == COUNTER_ROLLBACK || v == COUNTER_MISSING)
		log_error("license counter: %s", line);
	else if (v == COUNTER_AHEAD)
		log_warn("license counter: %s", line);
	if (reason != NULL && reason_len > 0)
		snprintf(reason, reason_len, "%s", line);
	return v;
}

int
counter_rebase(struct license_counter *c, uint64_t db_max)
{
	struct counter_state st, ns;
	int r = VT_ERR_INTERNAL;

	if (db_max > COUNTER_MAX)
		return VT_ERR_RANGE;
	pthread_mutex_lock(&c->mu);
	ns.committed = db_max;
	ns.reserved = db_max;
	r = counter_read_locked(c, &st);
	if (r == 0) {
		/* Keep every value ever handed out retired: the next one is above all of them. */
		if (st.reserved > db_max)
			ns.reserved = st.reserved;
		if (st.committed > db_max)
			log_warn("license counter %s rebased from committed %" PRIu64 " down to %"
			    PRIu64, c->path, st.committed, db_max);
	} else if (r == VT_ERR_NOT_FOUND && db_max == 0) {
		/* First boot: nothing to warn about. */
		log_info("license counter %s created", c->path);
	} else if (r == VT_ERR_NOT_FOUND || r == VT_ERR_VERIFY || r == VT_ERR_INVALID) {
		log_warn("license counter %s re-created at %" PRIu64 " (%s)", c->path, db_max,
		    r == VT_ERR_NOT_FOUND ? "no file" : "unusable file");
	} else {
		goto out;
	}
	r = counter_write_locked(c, &ns);
 out:
	pthread_mutex_unlock(&c->mu);
	return r;
}

void
counter_close(struct license_counter *c)
{
	if (c == NULL)
		return;
	if (c->lockfd >= 0)
		close(c->lockfd); /* releases the flock */
	if (c->dirfd >= 0)
		close(c->dirfd);
	secmem_free(c->key);
	free(c->path);
	free(c->name);
	free(c->tmp);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
