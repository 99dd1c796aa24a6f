/* The sim board's device map: everything lives on the host. */
#ifndef BOARD_SIM_BOARD_CONFIG_H
#define BOARD_SIM_BOARD_CONFIG_H

/* Data directory when --data-dir is not given (relative to the cwd). */
#define SIM_DATA_DIR_DEFAULT "sim-data"

#endif /* BOARD_SIM_BOARD_CONFIG_H */
