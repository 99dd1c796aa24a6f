/* Entry of `hotline-edge admin ...` (argv[0] is "admin"). Returns an exit code. */
#ifndef FIRMWARE_MAIN_ADMIN_MAIN_H
#define FIRMWARE_MAIN_ADMIN_MAIN_H

int admin_main(int argc, char **argv);

#endif /* FIRMWARE_MAIN_ADMIN_MAIN_H */
