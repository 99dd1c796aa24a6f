/* Board info: what this hardware is, for the health page and the city. */
#ifndef HAL_BOARD_INFO_H
#define HAL_BOARD_INFO_H

struct hal_board_info {
	const char *name;  /* board name as given to --board: "sim" */
	const char *model; /* human description */
	const char *arch;  /* CPU architecture the firmware was built for */
	char serial[40];   /* board serial number, or a stable id */
};

#endif /* HAL_BOARD_INFO_H */
