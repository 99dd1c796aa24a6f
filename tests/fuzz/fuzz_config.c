/* libFuzzer target for the configuration parser (hand-written, so fuzzed). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fw/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	config_defaults(&cfg);
	if (config_parse(&cfg, (const char *)data, size, "fuzz", err) == 0) {
		/* Whatever was accepted must be NUL-terminated and checkable. */
		if (strnlen(cfg.office_name, sizeof(cfg.office_name)) == sizeof(cfg.office_name) ||
		    strnlen(cfg.city_hostname, sizeof(cfg.city_hostname)) ==
			    sizeof(cfg.city_hostname)) {
			__builtin_trap();
		}
		config_check(&cfg, err);
	} else if (strnlen(err, sizeof(err)) == 0 || strnlen(err, sizeof(err)) == sizeof(err)) {
		__builtin_trap();
	}
	return 0;
}
