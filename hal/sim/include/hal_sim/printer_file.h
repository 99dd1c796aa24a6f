/*
 * Sim receipt printer: each job's raw ESC/POS bytes become one file in the
 * spool directory, job-<seq>-<UTC time>.escpos (seq is six digits and keeps
 * counting across restarts). A job file is whole or absent. A back-door
 * sets the printer's state so tests and the technician's sim controls can
 * make it run out of paper, open its cover or go offline.
 */
#ifndef HAL_SIM_PRINTER_FILE_H
#define HAL_SIM_PRINTER_FILE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include "hal/printer.h"

struct sim_printer {
	struct hal_printer dev; /* hand &dev to the firmware */
	/* private */
	pthread_mutex_t lock;
	char spool_dir[PATH_MAX];
	char last_job[PATH_MAX];
	enum hal_printer_state state;
	unsigned seq; /* of the last job written */
};

/*
 * Set up a printer spooling into spool_dir (which must exist). Continues
 * the job numbering after the highest job file already there and removes
 * temporary files a crash left behind. The state starts READY.
 * @retval 0, -EINVAL spool_dir NULL, empty or too long, -ENOENT no such
 *         directory, -EIO the directory cannot be read
 */
int sim_printer_init(struct sim_printer *sp, const char *spool_dir);

/* Release the printer (nothing is left open; a mutex is destroyed). */
void sim_printer_deinit(struct sim_printer *sp);

/*
 * Back-door: set what status() reports and how print() behaves. In
 * PAPER_OUT, COVER_OPEN, OFFLINE and ERROR print() fails with -ENOSPC,
 * -EBUSY, -ENODEV and -EIO and writes nothing; READY and PAPER_LOW print.
 * @retval 0, -EINVAL p is not a sim printer or state is not a state
 */
int sim_printer_set_state(struct hal_printer *p, enum hal_printer_state state);

/*
 * Back-door: the path of the last job file written by this instance.
 * @retval 0, -ENOENT no job yet, -EINVAL not a sim printer, -ENAMETOOLONG
 */
int sim_printer_last_job(struct hal_printer *p, char *path, size_t size);

#endif /* HAL_SIM_PRINTER_FILE_H */
