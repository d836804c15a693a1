/*
 * The recorder's pure half (no database, no scanner): a session's output held as raw events
 * until it is safe, then encoded as asciicast v2 lines with the known secrets redacted
 * (docs/broker.md §"Recording and live scanning"). recorder.c decides what is safe (the scanner's
 * bound) and stores the lines; this file only turns bytes and spans into JSON lines, so the
 * unit tests can cut a stream at every byte.
 *
 * Offsets count output bytes of the session from 0. An "o" event keeps the time its bytes
 * arrived; a slice of it released later keeps that time. Output is not always UTF-8: an
 * incomplete trailing sequence is carried into the next event, invalid bytes become U+FFFD (one
 * per maximal invalid subpart, as asciinema's decoder does), control bytes are JSON-escaped.
 */
#ifndef VT_BROKER_CAST_H
#define VT_BROKER_CAST_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "base/vbuf.h"
#include "scan/scan.h"

#define CAST_EVENT_MAX 16384        /* raw bytes of one "o" line, at most (longer ones are cut) */
#define CAST_HEADER_MAX 2048        /* the header line */
#define CAST_TITLE_MAX 256          /* bytes of the title / TERM kept in the header */
#define CAST_SPANS_MAX 65536        /* redaction spans held at once (past it: fail) */
#define CAST_MASK_RULE NULL         /* a span without a rule id masks instead of labelling */

struct cast;

/* New empty event queue for a recording that started at Unix time start_us. Never NULL. */
struct cast *cast_new(int64_t start_us);
/* Wipes the held bytes and frees; NULL-safe. */
void cast_free(struct cast *c);

/*
 * The header line ({"version":2,"width","height","timestamp","env":{"TERM"},"title"} and a
 * newline) appended to out. term and title may be NULL; they are cut to CAST_TITLE_MAX bytes
 * and made valid UTF-8.
 */
int cast_header(int width, int height, int64_t start_us, const char *term, const char *title,
    struct vbuf *out) VT_WUR;

/* Output bytes [cast_end, cast_end + n) arrived at t_us (times never go backwards). */
int cast_output(struct cast *c, int64_t t_us, const void *data, size_t n) VT_WUR;
/* A window change at t_us, after the output so far. */
int cast_resize(struct cast *c, int64_t t_us, int width, int height) VT_WUR;
/*
 * Bytes [start, end) are a secret: they are dropped and "[REDACTED:<rule_id>]" goes where the
 * first of them not yet released is (overlapping spans give one label: the earliest's, a vault
 * fingerprint's among those starting there). With
 * rule_id NULL the bytes are masked instead: every visible character becomes '*', escape
 * sequences, CR and LF stay (for bytes released unscanned). Spans may arrive in any order; the
 * part below cast_released() is ignored. rule_id is copied.
 */
int cast_redact(struct cast *c, uint64_t start, uint64_t end, const char *rule_id) VT_WUR;

/* Held bytes [start, end), borrowed until the next call that changes c; NULL if not all held. */
const uint8_t *cast_bytes(const struct cast *c, uint64_t start, uint64_t end);
/* Offset below which everything has been released; total output bytes. */
uint64_t cast_released(const struct cast *c);
uint64_t cast_end(const struct cast *c);
/* Bytes held (raw output, events, spans). */
size_t cast_memory(const struct cast *c);

/* Receives one encoded line (with its newline), borrowed for the call. Nonzero stops. */
typedef int (*cast_line_fn)(void *ud, const uint8_t *line, size_t n);
/*
 * Releases for good every event below offset upto (clamped to cast_end): "o" lines for the
 * bytes, "r" lines for resizes that came after them. An event straddling upto is cut there.
 * fn NULL: the bytes are dropped and nothing is encoded (a session that is not recorded).
 */
int cast_release(struct cast *c, uint64_t upto, cast_line_fn fn, void *ud) VT_WUR;
/* Releases everything and the carried incomplete UTF-8 sequence (as U+FFFD): the end (fn may
 * be NULL, as for cast_release). */
int cast_finish(struct cast *c, cast_line_fn fn, void *ud) VT_WUR;
/*
 * The lines that releasing everything now would give, appended to out, without releasing (the
 * provisional tail): an incomplete trailing UTF-8 sequence is left out. Bytes at or after
 * unsafe_from (those the scanner has not cleared yet) that are in a run of CAST_PREVIEW_RUN_MIN
 * or more token bytes (anything but blanks, controls, quotes, brackets, ',' ';' '|'; escape
 * sequences inside a run do not end it), or in a run still open at the end, are masked: what is
 * stored before the scanner has decided never holds the start of a secret it is still matching.
 */
#define CAST_PREVIEW_RUN_MIN 8
int cast_preview(const struct cast *c, uint64_t unsafe_from, struct vbuf *out) VT_WUR;

/*
 * JSON string body of bytes (no quotes) appended to out, with *carry / *ncarry the incomplete
 * sequence carried in and out (carry may be NULL: then an incomplete tail is U+FFFD).
 */
int cast_json_bytes(const uint8_t *p, size_t n, uint8_t carry[4], size_t *ncarry,
    struct vbuf *out) VT_WUR;

/*
 * Stored chunks: the asciicast text of a chunk is sealed either as it is or, when that is
 * smaller, as one zstd frame (level 1) of it. A reader tells them apart by the zstd frame magic,
 * which no asciicast line starts with. Every buffer the codec touches is wiped before it is
 * freed (zstd's own workspaces too).
 */
#define CAST_ZSTD_LEVEL 1
/* The bytes to seal for chunk text pt[0 .. n), appended to out (out is left alone on error). */
int cast_chunk_pack(const uint8_t *pt, size_t n, struct vbuf *out) VT_WUR;
/* The chunk text of stored bytes in[0 .. n) appended to out, at most max bytes of text;
 * VT_ERR_INVALID for a frame that does not decode, VT_ERR_TOO_LARGE past max. */
int cast_chunk_unpack(const uint8_t *in, size_t n, size_t max, struct vbuf *out) VT_WUR;

#endif
