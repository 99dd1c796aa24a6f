/*
 * Configuration file parser. The format is INI-like (docs/configuration.md):
 * "[section]" lines, "key = value" lines, comments starting with # or ;.
 * Every key is declared once in key_table with its type, bounds and the
 * field it fills, so parsing, validation, error messages and the docs all
 * come from one place. The parser works on a bounded line buffer and
 * touches cfg only after a value has been fully validated; on any error the
 * caller stops start-up, so a half-applied file is never used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/config.h"

#define LINE_MAX_LEN 1024
#define FILE_MAX_LEN (256 * 1024)

enum key_type { T_INT, T_BOOL, T_STR, T_IPV4, T_HOST, T_ENUM, T_HHMM };

struct key_def {
	const char *section;
	const char *key;
	enum key_type type;
	size_t offset;
	long min, max; /* T_INT: value range; T_STR: length range in bytes */
	/* T_ENUM: the accepted words, NULL-terminated; the field (an int-sized
	 * enum) gets the index of the word. */
	const char *const *names;
};

#define K(sec, k, t, field, lo, hi)                                        \
	{                                                                  \
		sec, k, t, offsetof(struct fw_config, field), lo, hi, NULL \
	}
#define E(sec, k, field, words)                                                \
	{                                                                      \
		sec, k, T_ENUM, offsetof(struct fw_config, field), 0, 0, words \
	}

/* Words of the enum keys, in the order of their enum values. */
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const display_modes[] = { "off", "rtu", "tcp", NULL };
static const char *const deadline_presets[] = { "national", "guangdong", NULL };
static const char *const count_froms[] = { "next_day", "receipt_day", NULL };

static const struct key_def key_table[] = {
	K("device", "office_name", T_STR, office_name, 1, CONFIG_STR_MAX - 1),
	E("log", "level", log_level, log_levels),
	K("http", "listen", T_IPV4, http_listen, 0, 0),
	K("http", "port", T_INT, http_port, 1, 65535),
	K("http", "allow_lan", T_BOOL, http_allow_lan, 0, 0),
	K("http", "body_max", T_INT, http_body_max, 1024, 16 * 1024 * 1024),
	K("uplink", "address", T_IPV4, uplink_ip, 0, 0),
	K("uplink", "netmask", T_IPV4, uplink_netmask, 0, 0),
	K("uplink", "gateway", T_IPV4, uplink_gateway, 0, 0),
	K("city", "address", T_IPV4, city_ip, 0, 0),
	K("city", "port", T_INT, city_port, 1, 65535),
	K("city", "hostname", T_HOST, city_hostname, 0, CONFIG_STR_MAX - 1),
	K("storage", "checkpoint_idle_s", T_INT, storage_checkpoint_idle_s, 1, 3600),
	K("storage", "journal_limit_kb", T_INT, storage_journal_limit_kb, 64, 1024 * 1024),
	K("storage", "heap_limit_kb", T_INT, storage_heap_limit_kb, 1024, 1024 * 1024),
	K("storage", "low_free_mb", T_INT, storage_low_free_mb, 2, 64 * 1024),
	K("storage", "critical_free_mb", T_INT, storage_critical_free_mb, 1, 32 * 1024),
	K("storage", "reserve_mb", T_INT, storage_reserve_mb, 0, 4096),
	K("storage", "stats_quota", T_INT, storage_stats_quota, 100, 10 * 1000 * 1000),
	K("watchdog", "timeout_s", T_INT, watchdog_timeout_s, 0, 600),
	K("privacy", "retention_days", T_INT, privacy_retention_days, 1, 3650),
	K("auth", "lock_after", T_INT, auth_lock_after, 1, 100),
	K("auth", "lock_minutes", T_INT, auth_lock_minutes, 1, 1440),
	K("auth", "idle_timeout_s", T_INT, auth_idle_timeout_s, 30, 3600),
	K("auth", "session_max_s", T_INT, auth_session_max_s, 300, 7 * 24 * 3600),
	K("queue", "recall_max", T_INT, queue_recall_max, 0, 10),
	K("queue", "priority_run", T_INT, queue_priority_run, 1, 20),
	K("queue", "rollover", T_HHMM, queue_rollover_min, 0, 0),
	K("queue", "keep_overnight", T_BOOL, queue_keep_overnight, 0, 0),
	K("queue", "utc_offset_min", T_INT, queue_utc_offset_min, -720, 840),
	E("display", "mode", display_mode, display_modes),
	K("display", "tcp_address", T_IPV4, display_tcp_ip, 0, 0),
	K("display", "tcp_port_base", T_INT, display_tcp_port_base, 1, 65535 - 99),
	K("display", "rtu_device", T_STR, display_rtu_device, 0, CONFIG_STR_MAX - 1),
	K("display", "rtu_baud", T_INT, display_rtu_baud, 1200, 115200),
	K("display", "timeout_ms", T_INT, display_timeout_ms, 20, 5000),
	K("display", "brightness", T_INT, display_brightness, 0, 100),
	K("display", "audio", T_BOOL, display_audio, 0, 0),
	E("orders", "deadline_preset", orders_deadline_preset, deadline_presets),
	E("orders", "count_from", orders_count_from, count_froms),
	K("orders", "rules_file", T_STR, orders_rules_file, 0, CONFIG_STR_MAX - 1),
	K("orders", "sign_for_days", T_INT, orders_sign_for_days, 1, 5),
	K("orders", "due_soon_days", T_INT, orders_due_soon_days, 0, 5),
	K("orders", "repeat_window_days", T_INT, orders_repeat_window_days, 0, 365),
	K("orders", "attachment_max_kb", T_INT, orders_attachment_max_kb, 16, 16 * 1024),
};

#define NKEYS (sizeof(key_table) / sizeof(key_table[0]))

void config_defaults(struct fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->office_name, sizeof(cfg->office_name), "%s", "12345热线转办中心");
	cfg->log_level = LOG_LVL_INFO;
	snprintf(cfg->http_listen, sizeof(cfg->http_listen), "%s", "127.0.0.1");
	cfg->http_port = 8080;
	cfg->http_allow_lan = false;
	cfg->http_body_max = 1024 * 1024;
	cfg->city_port = 8443;
	cfg->storage_checkpoint_idle_s = 30;
	cfg->storage_journal_limit_kb = 16 * 1024;
	cfg->storage_heap_limit_kb = 64 * 1024;
	cfg->storage_low_free_mb = 256;
	cfg->storage_critical_free_mb = 64;
	cfg->storage_reserve_mb = 32;
	cfg->storage_stats_quota = 20000;
	cfg->watchdog_timeout_s = 15;
	cfg->privacy_retention_days = 180;
	cfg->auth_lock_after = 5;
	cfg->auth_lock_minutes = 15;
	cfg->auth_idle_timeout_s = 300;
	cfg->auth_session_max_s = 12 * 3600;
	cfg->queue_recall_max = 3;
	cfg->queue_priority_run = 3;
	cfg->queue_rollover_min = 4 * 60;
	cfg->queue_keep_overnight = false;
	cfg->queue_utc_offset_min = 8 * 60;
	cfg->display_mode = CONFIG_DISPLAY_OFF;
	cfg->display_tcp_ip = 0x7f000001; /* 127.0.0.1 */
	cfg->display_tcp_port_base = 15020;
	cfg->display_rtu_baud = 9600;
	cfg->display_timeout_ms = 300;
	cfg->display_brightness = 80;
	cfg->display_audio = true;
	cfg->orders_deadline_preset = CONFIG_DEADLINES_NATIONAL;
	cfg->orders_count_from = CONFIG_COUNT_NEXT_DAY;
	cfg->orders_sign_for_days = 1;
	cfg->orders_due_soon_days = 1;
	cfg->orders_repeat_window_days = 30;
	cfg->orders_attachment_max_kb = 1024;
}

static void type_help(const struct key_def *k, char *buf, size_t len)
{
	switch (k->type) {
	case T_INT:
		snprintf(buf, len, "a whole number from %ld to %ld", k->min, k->max);
		break;
	case T_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case T_STR:
		snprintf(buf, len, "UTF-8 text of %ld to %ld bytes without control characters",
			 k->min, k->max);
		break;
	case T_IPV4:
		snprintf(buf, len, "an IPv4 address such as 192.168.1.10");
		break;
	case T_HOST:
		snprintf(buf, len, "a host name of letters, digits, '-' and '.', up to %ld bytes",
			 k->max);
		break;
	case T_ENUM: {
		size_t n = (size_t)snprintf(buf, len, "one of");

		for (size_t i = 0; k->names[i] != NULL && n < len; i++) {
			n += (size_t)snprintf(buf + n, len - n, "%s %s", i ? "," : "", k->names[i]);
		}
		break;
	}
	case T_HHMM:
		snprintf(buf, len, "a time of day HH:MM from 00:00 to 23:59");
		break;
	}
}

/* Strict UTF-8 check (no overlongs, no surrogates, nothing past U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t extra;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + extra >= n) {
			return false;
		}
		for (size_t j = 1; j <= extra; j++) {
			if ((s[i + j] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (extra == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			return false;
		}
		i += extra + 1;
	}
	return true;
}

static int parse_value(const struct key_def *k, const char *v, struct fw_config *cfg)
{
	char *field = (char *)cfg + k->offset;
	size_t len = strlen(v);

	switch (k->type) {
	case T_INT: {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max) {
			return -EINVAL;
		}
		*(int *)field = (int)n;
		return 0;
	}
	case T_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
		    !strcmp(v, "1")) {
			*(bool *)field = true;
		} else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
			   !strcmp(v, "0")) {
			*(bool *)field = false;
		} else {
			return -EINVAL;
		}
		return 0;
	case T_STR:
		if ((long)len < k->min || (long)len > k->max ||
		    !utf8_valid((const unsigned char *)v, len)) {
			return -EINVAL;
		}
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
				return -EINVAL;
			}
		}
		memcpy(field, v, len + 1);
		return 0;
	case T_IPV4: {
		struct in_addr a;

		if (inet_pton(AF_INET, v, &a) != 1) {
			return -EINVAL;
		}
		if (k->offset == offsetof(struct fw_config, http_listen)) {
			snprintf(field, CONFIG_STR_MAX, "%s", v);
		} else {
			*(uint32_t *)field = ntohl(a.s_addr);
		}
		return 0;
	}
	case T_HOST:
		if ((long)len > k->max) {
			return -EINVAL;
		}
		for (size_t i = 0; i < len; i++) {
			char c = v[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.')) {
				return -EINVAL;
			}
		}
		memcpy(field, v, len + 1);
		return 0;
	case T_ENUM:
		for (int i = 0; k->names[i] != NULL; i++) {
			if (!strcmp(v, k->names[i])) {
				*(int *)field = i;
				return 0;
			}
		}
		return -EINVAL;
	case T_HHMM:
		/* Exactly "HH:MM" (minutes of the day). */
		if (len != 5 || v[2] != ':' || v[0] < '0' || v[0] > '2' || v[1] < '0' ||
		    v[1] > '9' || v[3] < '0' || v[3] > '5' || v[4] < '0' || v[4] > '9' ||
		    (v[0] - '0') * 10 + (v[1] - '0') > 23) {
			return -EINVAL;
		}
		*(int *)field =
			((v[0] - '0') * 10 + (v[1] - '0')) * 60 + (v[3] - '0') * 10 + (v[4] - '0');
		return 0;
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
		*--e = '\0';
	}
	return s;
}

static bool known_section(const char *s)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (!strcmp(key_table[i].section, s)) {
			return true;
		}
	}
	return false;
}

/* The sections in key_table order, each once: "device, log, http, ...". */
static void list_sections(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < len; i++) {
		size_t j = 0;
		int n;

		while (j < i && strcmp(key_table[j].section, key_table[i].section) != 0) {
			j++;
		}
		if (j < i) {
			continue; /* listed already */
		}
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			     key_table[i].section);
		if (n < 0) {
			break;
		}
		used += (size_t)n;
	}
}

static void list_keys(const char *section, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < len; i++) {
		if (!strcmp(key_table[i].section, section)) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 key_table[i].key);
			if (n < 0) {
				break;
			}
			used += (size_t)n;
		}
	}
}

static int parse_line(struct fw_config *cfg, char *line, char *section, bool *seen, char *msg,
		      size_t msglen)
{
	char *eq, *key, *val;
	char help[160];

	line = trim(line);
	if (*line == '\0' || *line == '#' || *line == ';') {
		return 0;
	}
	if (*line == '[') {
		char *end = strchr(line, ']');

		if (!end || end[1] != '\0') {
			snprintf(msg, msglen, "a section header must look like [name]");
			return -EINVAL;
		}
		*end = '\0';
		line = trim(line + 1);
		if (!known_section(line)) {
			list_sections(help, sizeof(help));
			snprintf(msg, msglen, "unknown section [%.64s]; known sections: %s", line,
				 help);
			return -EINVAL;
		}
		snprintf(section, 32, "%s", line);
		return 0;
	}
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(msg, msglen, "expected 'key = value', a [section] or a # comment");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (section[0] == '\0') {
		snprintf(msg, msglen, "key '%.64s' comes before any [section]", key);
		return -EINVAL;
	}
	/* A value in double quotes keeps its spaces and may hold # or ;. */
	if (val[0] == '"') {
		size_t n = strlen(val);

		if (n < 2 || val[n - 1] != '"') {
			snprintf(msg, msglen, "key '%s.%.64s': the closing \" is missing", section,
				 key);
			return -EINVAL;
		}
		val[n - 1] = '\0';
		val++;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &key_table[i];

		if (strcmp(k->section, section) || strcmp(k->key, key)) {
			continue;
		}
		if (seen[i]) {
			snprintf(msg, msglen, "key '%s.%s' is set twice; keep one", section, key);
			return -EINVAL;
		}
		if (parse_value(k, val, cfg) < 0) {
			type_help(k, help, sizeof(help));
			snprintf(msg, msglen, "key '%s.%s': '%.64s' is not allowed; expected %s",
				 section, key, val, help);
			return -EINVAL;
		}
		seen[i] = true;
		return 0;
	}
	list_keys(section, help, sizeof(help));
	snprintf(msg, msglen, "unknown key '%.64s' in [%s]; known keys: %s", key, section, help);
	return -EINVAL;
}

int config_parse(struct fw_config *cfg, const char *text, size_t len, const char *name,
		 char err[CONFIG_ERR_MAX])
{
	struct fw_config work = *cfg;
	bool seen[NKEYS] = { false };
	char section[32] = "";
	char line[LINE_MAX_LEN + 2];
	char msg[CONFIG_ERR_MAX - 64];
	size_t pos = 0;
	int lineno = 0;

	if (memchr(text, '\0', len)) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: the file contains a NUL byte; is it a text file?", name);
		return -EINVAL;
	}
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		pos = 3; /* a UTF-8 byte order mark, as Windows editors write */
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int rc;

		lineno++;
		if (n > LINE_MAX_LEN) {
			snprintf(err, CONFIG_ERR_MAX, "%s:%d: line longer than %d bytes", name,
				 lineno, LINE_MAX_LEN);
			return -EINVAL;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		rc = parse_line(&work, line, section, seen, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, CONFIG_ERR_MAX, "%s:%d: %s", name, lineno, msg);
			return rc;
		}
	}
	*cfg = work;
	return 0;
}

int config_load(struct fw_config *cfg, const char *path, char err[CONFIG_ERR_MAX])
{
	char *buf;
	size_t len;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot open the configuration file: %s", path,
			 strerror(-rc));
		return rc;
	}
	buf = malloc(FILE_MAX_LEN + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, CONFIG_ERR_MAX, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(buf, 1, FILE_MAX_LEN + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, CONFIG_ERR_MAX, "%s: read error", path);
	} else if (len > FILE_MAX_LEN) {
		rc = -EINVAL;
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: file larger than %d bytes; is it the right file?", path,
			 FILE_MAX_LEN);
	} else {
		rc = config_parse(cfg, buf, len, path, err);
	}
	free(buf);
	fclose(f);
	return rc;
}

int config_check(const struct fw_config *cfg, char err[CONFIG_ERR_MAX])
{
	struct in_addr a;
	bool any, all;

	if (inet_pton(AF_INET, cfg->http_listen, &a) != 1) {
		snprintf(err, CONFIG_ERR_MAX, "key 'http.listen': '%s' is not an IPv4 address",
			 cfg->http_listen);
		return -EINVAL;
	}
	if ((ntohl(a.s_addr) >> 24) != 127 && !cfg->http_allow_lan) {
		snprintf(err, CONFIG_ERR_MAX,
			 "key 'http.listen': %s is not a loopback address; serving the office "
			 "LAN must be switched on explicitly with http.allow_lan = true",
			 cfg->http_listen);
		return -EINVAL;
	}
	if (cfg->storage_critical_free_mb >= cfg->storage_low_free_mb) {
		snprintf(err, CONFIG_ERR_MAX,
			 "key 'storage.critical_free_mb': %d is not below 'storage.low_free_mb' "
			 "(%d); the warning must come before the refusals",
			 cfg->storage_critical_free_mb, cfg->storage_low_free_mb);
		return -EINVAL;
	}
	any = cfg->uplink_ip || cfg->uplink_netmask || cfg->uplink_gateway;
	all = cfg->uplink_ip && cfg->uplink_netmask && cfg->uplink_gateway;
	if (any && !all) {
		snprintf(err, CONFIG_ERR_MAX,
			 "keys 'uplink.address', 'uplink.netmask', 'uplink.gateway' go together: "
			 "set all three, or none to use the board's default");
		return -EINVAL;
	}
	if (all &&
	    (cfg->uplink_ip & cfg->uplink_netmask) != (cfg->uplink_gateway & cfg->uplink_netmask)) {
		snprintf(err, CONFIG_ERR_MAX,
			 "key 'uplink.gateway': the gateway is not in the uplink's subnet "
			 "(address and netmask)");
		return -EINVAL;
	}
	if (all && ~cfg->uplink_netmask & (~cfg->uplink_netmask + 1)) {
		snprintf(err, CONFIG_ERR_MAX,
			 "key 'uplink.netmask': not a contiguous netmask such as 255.255.255.0");
		return -EINVAL;
	}
	if (cfg->auth_idle_timeout_s > cfg->auth_session_max_s) {
		snprintf(err, CONFIG_ERR_MAX,
			 "key 'auth.idle_timeout_s': %d is longer than auth.session_max_s (%d); "
			 "the idle timeout must not exceed the session's lifetime",
			 cfg->auth_idle_timeout_s, cfg->auth_session_max_s);
		return -EINVAL;
	}
	return 0;
}

/* T_ENUM writes an int into the enum field. */
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_display_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_deadline_preset) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_count_from) == sizeof(int), "enum size");
