/*
 * Run-time configuration: an INI-style file (docs/configuration.md) read at
 * start over built-in defaults. Every key is declared once in a table with
 * its type and allowed range; a bad value, an unknown key or a malformed
 * line stops start-up with a message naming the file, line, key and what is
 * allowed.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/log.h"

#define CONFIG_STR_MAX 128
#define CONFIG_ERR_MAX 512

/* How the window display boards are reached ([display] mode). */
enum config_display_mode {
	CONFIG_DISPLAY_OFF = 0,
	CONFIG_DISPLAY_RTU, /* Modbus RTU on the RS-485 display bus */
	CONFIG_DISPLAY_TCP, /* Modbus TCP, one port per board: tcp_port_base + window */
};

/* Which deadline table applies ([orders] deadline_preset, docs/orders.md). */
enum config_deadline_preset {
	CONFIG_DEADLINES_NATIONAL = 0, /* immediate / 1 / 3 / 7 working days, extension to 15 */
	CONFIG_DEADLINES_GUANGDONG,    /* 咨询 2, 求助 10, 建议 10, 投诉/举报 15 */
};

/* Which day is the first counted working day ([orders] count_from). */
enum config_count_from {
	CONFIG_COUNT_NEXT_DAY = 0, /* the working day after receipt */
	CONFIG_COUNT_RECEIPT_DAY,  /* the day of receipt itself (含本数) */
};

struct fw_config {
	/* [device] */
	char office_name[CONFIG_STR_MAX];
	/* [log] */
	enum log_level log_level;
	/* [http] */
	char http_listen[CONFIG_STR_MAX];
	int http_port;
	bool http_allow_lan;
	int http_body_max;
	/* [uplink] 0 means the board's default */
	uint32_t uplink_ip;
	uint32_t uplink_netmask;
	uint32_t uplink_gateway;
	/* [city] */
	uint32_t city_ip;
	int city_port;
	char city_hostname[CONFIG_STR_MAX];
	/* [storage] */
	int storage_checkpoint_idle_s;
	int storage_journal_limit_kb;
	int storage_heap_limit_kb;
	int storage_low_free_mb; /* backlog policy (fw/backlog.h) */
	int storage_critical_free_mb;
	int storage_reserve_mb;
	int storage_stats_quota;
	/* [watchdog] */
	int watchdog_timeout_s;
	/* [privacy] */
	int privacy_retention_days;
	/* [auth] staff sessions and lockout */
	int auth_lock_after;
	int auth_lock_minutes;
	int auth_idle_timeout_s;
	int auth_session_max_s;
	/* [queue] seeds of the ticket queue's settings (docs/queue.md) */
	int queue_recall_max;
	int queue_priority_run;
	int queue_rollover_min; /* "HH:MM" in the file */
	bool queue_keep_overnight;
	int queue_utc_offset_min;
	/* [display] window boards (docs/display-boards.md) */
	enum config_display_mode display_mode;
	uint32_t display_tcp_ip;
	int display_tcp_port_base;
	char display_rtu_device[CONFIG_STR_MAX]; /* "": the board's display bus */
	int display_rtu_baud;
	int display_timeout_ms;
	int display_brightness;
	bool display_audio;
	/* [orders] work orders and walk-in requests (docs/orders.md) */
	enum config_deadline_preset orders_deadline_preset;
	enum config_count_from orders_count_from;
	char orders_rules_file[CONFIG_STR_MAX]; /* "": the preset's table */
	int orders_sign_for_days;		/* working days to sign for (签收) */
	int orders_due_soon_days;		/* working days ahead flagged due soon */
	int orders_repeat_window_days;		/* days a similar request counts as repeat */
	int orders_attachment_max_kb;
};

/* Fill cfg with the built-in defaults. */
void config_defaults(struct fw_config *cfg);

/*
 * Apply the file at path over cfg.
 * @retval 0 applied
 * @retval -ENOENT the file does not exist (err says so)
 * @retval -EINVAL a bad line; err holds "FILE:LINE: key 'k': ..."
 */
int config_load(struct fw_config *cfg, const char *path, char err[CONFIG_ERR_MAX]);

/* Apply text held in memory; name is used in messages. Same returns. */
int config_parse(struct fw_config *cfg, const char *text, size_t len, const char *name,
		 char err[CONFIG_ERR_MAX]);

/* Check combinations across keys (e.g. a LAN address without allow_lan). */
int config_check(const struct fw_config *cfg, char err[CONFIG_ERR_MAX]);

#endif /* FW_CONFIG_H */
