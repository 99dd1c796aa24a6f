/*
 * Storage paths: where this board keeps its database, keys, printouts,
 * firmware slots and where a technician's USB stick appears.
 */
#ifndef HAL_PATHS_H
#define HAL_PATHS_H

#include <limits.h>

struct hal_paths {
	char data_dir[PATH_MAX];  /* database, keys; survives updates */
	char slot_dir[PATH_MAX];  /* firmware slots A/B and the boot choice */
	char spool_dir[PATH_MAX]; /* print jobs kept by the sim printer, audio */
	char usb_dir[PATH_MAX];	  /* mount point of a USB stick */
};

#endif /* HAL_PATHS_H */
