/*
 * Printer states: their names for logs and the technician's page (a table
 * indexed by the enum, with a range check, so an out-of-range value from a
 * corrupted caller prints "unknown" instead of reading past the table), and
 * the one mapping of a state to the error print() returns, shared by every
 * printer driver and the ticket printer.
 */
#include <errno.h>
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

int hal_printer_state_errno(enum hal_printer_state state)
{
	switch (state) {
	case HAL_PRINTER_READY:
	case HAL_PRINTER_PAPER_LOW:
		return 0;
	case HAL_PRINTER_PAPER_OUT:
		return -ENOSPC;
	case HAL_PRINTER_COVER_OPEN:
		return -EBUSY;
	case HAL_PRINTER_OFFLINE:
		return -ENODEV;
	case HAL_PRINTER_ERROR:
	default:
		return -EIO;
	}
}
