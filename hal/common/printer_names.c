/*
 * Names of printer states for logs and the technician's page. A table
 * indexed by the enum, with a range check, so an out-of-range value from a
 * corrupted caller prints "unknown" instead of reading past the table.
 */
#include <stddef.h>

#include "hal/printer.h"

static const char *const state_names[] = {
	[HAL_PRINTER_READY] = "ready",	       [HAL_PRINTER_PAPER_LOW] = "paper-low",
	[HAL_PRINTER_PAPER_OUT] = "paper-out", [HAL_PRINTER_COVER_OPEN] = "cover-open",
	[HAL_PRINTER_OFFLINE] = "offline",     [HAL_PRINTER_ERROR] = "error",
};

const char *hal_printer_state_name(enum hal_printer_state state)
{
	if ((unsigned)state >= sizeof(state_names) / sizeof(state_names[0]) ||
	    state_names[state] == NULL) {
		return "unknown";
	}
	return state_names[state];
}
