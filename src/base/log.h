/*
 * Process logging: one line per event on stderr, with level, time, and source location. The level
 * is checked before the arguments are evaluated. Never pass a secret, token, password or request
 * body to these macros; the audit trail is a separate module, not a log level.
 */
#ifndef VT_BASE_LOG_H
#define VT_BASE_LOG_H

#include "base/util.h"

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_WARN = 2,
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_FATAL = 4,
};

#define LOG_LINE_MAX 2048 /* longer messages are truncated, never split */

extern int log_min_level;

/* Parses "debug|info|warn|error"; returns 0 and sets *out, or VT_ERR_VALIDATION. */
int log_level_parse(const char *s, enum log_level *out) VT_WUR;
void log_set_level(enum log_level l);
/* Include file:line:func in lines (default on; off for the CLI's user-facing output). */
void log_set_show_source(int on);

void log_emit(enum log_level l, const char *file, int line, const char *func, const char *fmt, ...)
	VT_PRINTF(5, 6);

#define VT_LOG(l, ...)                                                                             \
	do {                                                                                       \
		if ((int)(l) >= log_min_level)                                                     \
			log_emit((l), __FILE__, __LINE__, __func__, __VA_ARGS__);                  \
	} while (0)

#define log_debug(...) VT_LOG(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) VT_LOG(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) VT_LOG(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) VT_LOG(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_fatal(...) VT_LOG(LOG_LEVEL_FATAL, __VA_ARGS__)

#endif
