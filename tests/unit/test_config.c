/* Configuration parser: good files, every kind of bad line, cross-key checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw/config.h"

static int parse(struct fw_config *cfg, const char *text, char *err)
{
	config_defaults(cfg);
	return config_parse(cfg, text, strlen(text), "test.conf", err);
}

static void test_defaults_are_valid(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	config_defaults(&cfg);
	assert_int_equal(config_check(&cfg, err), 0);
	assert_string_equal(cfg.http_listen, "127.0.0.1");
	assert_int_equal(cfg.http_port, 8080);
	assert_false(cfg.http_allow_lan);
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
}

static void test_good_file(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX] = "";
	const char *text = "\xef\xbb\xbf# hotline-edge\n"
			   "; another comment\n"
			   "\n"
			   "[device]\n"
			   "office_name = 某某县12345热线转办中心\n"
			   "[log]\r\n"
			   "level = debug\r\n"
			   "[ http ]\n"
			   "  port=18080  \n"
			   "listen = 0.0.0.0\n"
			   "allow_lan = yes\n"
			   "[uplink]\n"
			   "address = 172.20.1.15\n"
			   "netmask = 255.255.255.0\n"
			   "gateway = 172.20.1.1\n"
			   "[city]\n"
			   "address = 172.20.9.9\n"
			   "hostname = api.city-12345.gov.cn\n"
			   "[watchdog]\n"
			   "timeout_s = 0";

	assert_int_equal(parse(&cfg, text, err), 0);
	assert_int_equal(config_check(&cfg, err), 0);
	assert_string_equal(cfg.office_name, "某某县12345热线转办中心");
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.http_port, 18080);
	assert_string_equal(cfg.http_listen, "0.0.0.0");
	assert_true(cfg.http_allow_lan);
	assert_int_equal(cfg.uplink_ip, 0xac14010f);
	assert_int_equal(cfg.uplink_netmask, 0xffffff00);
	assert_int_equal(cfg.uplink_gateway, 0xac140101);
	assert_int_equal(cfg.city_ip, 0xac140909);
	assert_string_equal(cfg.city_hostname, "api.city-12345.gov.cn");
	assert_int_equal(cfg.watchdog_timeout_s, 0);
	/* Keys the file does not name keep their defaults. */
	assert_int_equal(cfg.city_port, 8443);
}

static void test_quoted_value_keeps_hash(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(parse(&cfg, "[device]\noffice_name = \" 第#3 窗口 ; 大厅 \"\n", err), 0);
	assert_string_equal(cfg.office_name, " 第#3 窗口 ; 大厅 ");
	assert_int_equal(parse(&cfg, "[device]\noffice_name = \"open\n", err), -EINVAL);
	assert_non_null(strstr(err, "test.conf:2:"));
}

struct bad_case {
	const char *text;
	const char *expect[3]; /* substrings the message must contain */
};

static void test_bad_files_name_line_key_and_allowed(void **state)
{
	static const struct bad_case cases[] = {
		{ "[http]\nport = 99999\n", { "test.conf:2:", "'http.port'", "1 to 65535" } },
		{ "[http]\nport = 80x\n", { ":2:", "'80x'", "whole number" } },
		{ "[http]\nport =\n", { ":2:", "http.port", "whole number" } },
		{ "[http]\n\n\nprot = 1\n", { "test.conf:4:", "unknown key 'prot'", "port" } },
		{ "[htp]\n", { ":1:", "unknown section [htp]", "device, log, http, uplink" } },
		{ "[x]\n", { ":1:", "watchdog, privacy, auth", "" } },
		{ "[auth]\nlock_after = 0\n", { ":2:", "auth.lock_after", "1 to 100" } },
		{ "[auth]\nidle_timeout_s = 10\n", { ":2:", "auth.idle_timeout_s", "30 to 3600" } },
		{ "[privacy]\nretention_days = 0\n",
		  { ":2:", "privacy.retention_days", "1 to 3650" } },
		{ "port = 1\n", { ":1:", "before any [section]", "port" } },
		{ "[http]\njust words\n", { ":2:", "key = value", "" } },
		{ "[http\n", { ":1:", "[name]", "" } },
		{ "[http]\nallow_lan = maybe\n", { ":2:", "http.allow_lan", "true or false" } },
		{ "[log]\nlevel = loud\n", { ":2:", "log.level", "error, warn, info, debug" } },
		{ "[uplink]\naddress = 10.0.2.300\n", { ":2:", "uplink.address", "IPv4" } },
		{ "[city]\nhostname = bad host\n", { ":2:", "city.hostname", "host name" } },
		{ "[http]\nport = 1\nport = 2\n", { ":3:", "set twice", "" } },
		{ "[device]\noffice_name = \xff\xfe\n", { ":2:", "device.office_name", "UTF-8" } },
		{ "[device]\noffice_name = \xe4\xb8\n", { ":2:", "UTF-8", "" } },
		{ "[device]\noffice_name = \xed\xa0\x80\n", { ":2:", "UTF-8", "" } },
		{ "[device]\noffice_name = \n", { ":2:", "office_name", "1 to" } },
		{ "[storage]\ncheckpoint_idle_s = 0\n", { ":2:", "1 to 3600", "" } },
		{ "[http]\nport = -1\n", { ":2:", "1 to 65535", "" } },
		{ "[http]\nport = 4294967297\n", { ":2:", "1 to 65535", "" } },
	};
	struct fw_config cfg, before;
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		config_defaults(&before);
		config_defaults(&cfg);
		cfg.http_port = 1234; /* a value set before the failing parse */
		before.http_port = 1234;
		if (config_parse(&cfg, cases[i].text, strlen(cases[i].text), "test.conf", err) !=
		    -EINVAL) {
			fail_msg("case %zu was accepted: %s", i, cases[i].text);
		}
		for (int j = 0; j < 3; j++) {
			if (!strstr(err, cases[i].expect[j])) {
				fail_msg("case %zu: message '%s' lacks '%s'", i, err,
					 cases[i].expect[j]);
			}
		}
		/* A failed parse leaves the configuration as it was. */
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
}

static void test_long_line_and_nul_refused(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];
	char big[2100];
	const char nul[] = "[http]\nport = 1\0\n";

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(&cfg, big, err), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	config_defaults(&cfg);
	assert_int_equal(config_parse(&cfg, nul, sizeof(nul) - 1, "x", err), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
}

static void test_cross_checks(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(parse(&cfg, "[http]\nlisten = 192.168.1.5\n", err), 0);
	assert_int_equal(config_check(&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "allow_lan"));

	assert_int_equal(parse(&cfg, "[uplink]\naddress = 10.1.1.2\n", err), 0);
	assert_int_equal(config_check(&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "set all three"));

	assert_int_equal(parse(&cfg,
			       "[uplink]\naddress = 10.1.1.2\nnetmask = 255.255.255.0\n"
			       "gateway = 10.1.2.1\n",
			       err),
			 0);
	assert_int_equal(config_check(&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "subnet"));

	assert_int_equal(parse(&cfg,
			       "[uplink]\naddress = 10.1.1.2\nnetmask = 255.0.255.0\n"
			       "gateway = 10.1.1.1\n",
			       err),
			 0);
	assert_int_equal(config_check(&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "contiguous"));
}

static void test_auth_and_privacy_keys(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	config_defaults(&cfg);
	assert_int_equal(cfg.auth_lock_after, 5);
	assert_int_equal(cfg.auth_idle_timeout_s, 300);
	assert_int_equal(cfg.privacy_retention_days, 180);
	assert_int_equal(parse(&cfg,
			       "[auth]\nlock_after = 3\nlock_minutes = 30\nidle_timeout_s = 60\n"
			       "session_max_s = 3600\n[privacy]\nretention_days = 30\n",
			       err),
			 0);
	assert_int_equal(config_check(&cfg, err), 0);
	assert_int_equal(cfg.auth_lock_after, 3);
	assert_int_equal(cfg.auth_lock_minutes, 30);
	assert_int_equal(cfg.auth_idle_timeout_s, 60);
	assert_int_equal(cfg.auth_session_max_s, 3600);
	assert_int_equal(cfg.privacy_retention_days, 30);
	/* The idle timeout cannot outlast the session. */
	assert_int_equal(parse(&cfg, "[auth]\nidle_timeout_s = 900\nsession_max_s = 600\n", err),
			 0);
	assert_int_equal(config_check(&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "auth.idle_timeout_s"));
	assert_non_null(strstr(err, "auth.session_max_s"));
}

static void test_queue_and_display_keys(void **state)
{
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(
		parse(&cfg,
		      "[queue]\nrollover = 04:30\nrecall_max = 2\nkeep_overnight = yes\n"
		      "[display]\nmode = tcp\ntcp_address = 127.0.0.1\ntcp_port_base = 15020\n",
		      err),
		0);
	assert_int_equal(config_check(&cfg, err), 0);
	assert_int_equal(cfg.queue_rollover_min, 4 * 60 + 30);
	assert_int_equal(cfg.queue_recall_max, 2);
	assert_true(cfg.queue_keep_overnight);
	assert_int_equal(cfg.display_mode, CONFIG_DISPLAY_TCP);
	assert_int_equal(cfg.display_tcp_ip, 0x7f000001);
	assert_int_equal(cfg.display_tcp_port_base, 15020);
	assert_int_equal(parse(&cfg, "[queue]\nrollover = 00:00\n[display]\nmode = off\n", err), 0);
	assert_int_equal(cfg.queue_rollover_min, 0);
	assert_int_equal(cfg.display_mode, CONFIG_DISPLAY_OFF);
	assert_int_equal(parse(&cfg, "[queue]\nrollover = 23:59\n", err), 0);
	assert_int_equal(cfg.queue_rollover_min, 23 * 60 + 59);
}

static void test_load_from_file(void **state)
{
	char path[] = "/tmp/he-config-XXXXXX";
	struct fw_config cfg;
	char err[CONFIG_ERR_MAX];
	int fd = mkstemp(path);
	const char *text = "[http]\nport = 9090\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, path, err), 0);
	assert_int_equal(cfg.http_port, 9090);
	unlink(path);
	assert_int_equal(config_load(&cfg, path, err), -ENOENT);
	assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_valid),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_quoted_value_keeps_hash),
		cmocka_unit_test(test_bad_files_name_line_key_and_allowed),
		cmocka_unit_test(test_long_line_and_nul_refused),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_auth_and_privacy_keys),
		cmocka_unit_test(test_queue_and_display_keys),
		cmocka_unit_test(test_load_from_file),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
