/*
 * A receipt printer in RAM: print() keeps each job's bytes for the test to
 * inspect, a back-door sets the printer's state (paper out, cover open…)
 * and another makes the next job fail, so tests can prove that nothing is
 * counted as printed unless it was. Thread-safe.
 */
#ifndef FAKES_FAKE_PRINTER_H
#define FAKES_FAKE_PRINTER_H

#include <stddef.h>
#include <stdint.h>

#include "hal/printer.h"

#define FAKE_PRINTER_JOBS_MAX  64
#define FAKE_PRINTER_BYTES_MAX (512 * 1024)

/* READY, no jobs kept, no fault queued. */
void fake_printer_init(struct hal_printer *p);
/* What status() reports; print() fails in PAPER_OUT, COVER_OPEN, OFFLINE, ERROR
 * with -ENOSPC, -EBUSY, -ENODEV, -EIO and keeps nothing. */
void fake_printer_set_state(struct hal_printer *p, enum hal_printer_state state);
/* The next print() fails with err (e.g. -ETIMEDOUT) and keeps nothing; 0 clears. */
void fake_printer_fail_next(struct hal_printer *p, int err);
/* Jobs kept so far. */
unsigned fake_printer_job_count(struct hal_printer *p);
/* Job i (0 = first) and its length; NULL when there is no such job. */
const uint8_t *fake_printer_job(struct hal_printer *p, unsigned i, size_t *len);
/* Forget the jobs kept. */
void fake_printer_clear(struct hal_printer *p);

#endif /* FAKES_FAKE_PRINTER_H */
