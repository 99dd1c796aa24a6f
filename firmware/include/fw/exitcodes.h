/* Exit codes of hotline-edge, documented in --help and docs/operations.md. */
#ifndef FW_EXITCODES_H
#define FW_EXITCODES_H

#define EXIT_OK		  0
#define EXIT_START_FAILED 1 /* a device, the database or the HTTP port failed */
#define EXIT_USAGE	  2 /* bad command line or configuration */
#define EXIT_DB_TOO_NEW	  3 /* the database was written by a newer firmware */
#define EXIT_WATCHDOG	  4 /* the sim board's software watchdog expired */

#endif /* FW_EXITCODES_H */
