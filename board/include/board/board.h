/*
 * Boards: each fills a struct hal_devices with its device instances. The
 * table of boards built for this CPU is in board/boards.c; main picks one by
 * --board. Only main includes this header; apps see struct hal_devices.
 */
#ifndef BOARD_BOARD_H
#define BOARD_BOARD_H

#include <stdbool.h>

#include "hal/devices.h"

struct board_params {
	const char *data_dir; /* from --data-dir; NULL: the board's default */
};

struct board {
	const char *name;
	const char *description;
	bool use_syslog;	      /* a real board logs to syslog as well as stderr */
	const char *default_data_dir; /* when --data-dir is not given */
	/* Fill devs. @retval 0, -ENODEV a required device is missing, -EIO */
	int (*init)(const struct board_params *p, struct hal_devices *devs);
	void (*deinit)(struct hal_devices *devs);
};

/* NULL when no board of that name is built in. */
const struct board *board_find(const char *name);
/* The board used when --board is not given. */
const struct board *board_default(void);
/* All built-in boards, ending with NULL. */
extern const struct board *const board_table[];

#endif /* BOARD_BOARD_H */
