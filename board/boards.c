/*
 * The table of boards built into this firmware. Both boards are Linux
 * boards, so every build carries both and --board picks one at start; the
 * default follows the CPU the firmware was built for.
 */
#include <string.h>

#include "board/board.h"

extern const struct board board_sim;
extern const struct board board_arm64_kiosk;

const struct board *const board_table[] = {
	&board_sim,
	&board_arm64_kiosk,
	NULL,
};

const struct board *board_find(const char *name)
{
	for (const struct board *const *b = board_table; *b; b++) {
		if (strcmp((*b)->name, name) == 0) {
			return *b;
		}
	}
	return NULL;
}

const struct board *board_default(void)
{
#if defined(__aarch64__)
	return &board_arm64_kiosk;
#else
	return &board_sim;
#endif
}
