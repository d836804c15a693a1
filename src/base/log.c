/*
 * Line-oriented logger. Each event is formatted into one stack buffer and written with a single
 * write(2) so lines from concurrent threads never interleave. Control characters in messages are
 * escaped so a hostile value cannot forge log lines.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

int log_min_level = LOG_LEVEL_INFO;
static int log_show_source = 1;

static const char *const LEVEL_NAMES[] = { "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < VT_NELEM(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return VT_ERR_VALIDATION;
}

void
log_set_level(enum log_level l)
{
	log_min_level = (int)l;
}

void
log_set_show_source(int on)
{
	log_show_source = on;
}

void
log_emit(enum log_level l, const char *file, int line, const char *func, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	char out[LOG_LINE_MAX + 256];
	char ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t i, o = 0;
	int n;
	const char *base;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';

	base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;
	if (log_show_source)
		n = snprintf(out, sizeof(out), "%s.%03ldZ %-5s [%s:%d %s] ", ts,
		    now.tv_nsec / 1000000, LEVEL_NAMES[l], base, line, func);
	else
		n = snprintf(out, sizeof(out), "%s.%03ldZ %-5s ", ts, now.tv_nsec / 1000000,
		    LEVEL_NAMES[l]);
	if (n < 0)
		return;
	o = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
	for (i = 0; msg[i] != '\0' && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c == 0x7f) {
			static const char hexd[] = "0123456789abcdef";

			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '\n';
	(void)!write(STDERR_FILENO, out, o);
}
