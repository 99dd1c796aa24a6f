/*
 * Logging to stderr (and syslog on a real board). One lock around the
 * formatting and the write keeps lines from different threads whole; a line
 * is formatted into a fixed buffer, so logging never allocates.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "fw/log.h"

static enum log_level cur_level = LOG_LVL_INFO;
static bool to_syslog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_use_syslog(bool on)
{
	if (on && !to_syslog) {
		openlog("hotline-edge", LOG_PID, LOG_DAEMON);
	}
	to_syslog = on;
}

int log_parse_level(const char *s, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > cur_level) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ld %-5s %s: %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level],
		module, msg);
	if (to_syslog) {
		syslog(prio[level], "%s: %s", module, msg);
	}
	pthread_mutex_unlock(&log_lock);
}
