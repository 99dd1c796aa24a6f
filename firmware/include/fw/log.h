/*
 * Logging: one line per event, with wall-clock time, level and module, to
 * stderr, and to syslog on a real board. Thread-safe. Lines a technician
 * reads say what happened and what to do.
 */
#ifndef FW_LOG_H
#define FW_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Also send every line to syslog (the real board). */
void log_use_syslog(bool on);
/* Parse "error", "warn", "info", "debug". @retval 0, -EINVAL */
int log_parse_level(const char *s, enum log_level *level);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...)  log_write(LOG_LVL_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_write(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_write(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_dbg(mod, ...)  log_write(LOG_LVL_DEBUG, mod, __VA_ARGS__)

#endif /* FW_LOG_H */
