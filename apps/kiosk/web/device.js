/*
 * The technician's 设备状态 / Device page, a tab of the staff home
 * (kioskStaff.addTab) for technicians and supervisors: the window display
 * boards (GET /api/v1/display/boards) and the appliance's own state from
 * GET /api/v1/health (firmware, board, database, uplink, device
 * certificate), refreshed every 5 s while the tab is open.
 *
 * Read-only: nothing here changes the device. Every text from data is set
 * with textContent (h()), never innerHTML; no inline script or style (CSP).
 */
"use strict";

(() => {
	const staff = window.kioskStaff;
	if (!staff) {
		return;
	}
	const { shell, t, h, fmt, $ } = staff;

	Object.assign(shell.strings.zh, {
		dv_tab: "设备状态",
		dv_boards: "窗口显示屏",
		dv_mode: "连接方式：{mode}",
		dv_mode_off: "未启用",
		dv_mode_rtu: "RS-485 总线（RTU）",
		dv_mode_tcp: "网络（Modbus TCP）",
		dv_no_boards: "没有要驱动的显示屏。",
		dv_col_window: "窗口",
		dv_col_state: "状态",
		dv_col_since: "故障开始于",
		dv_col_error: "最近错误",
		dv_col_write: "最近写入",
		dv_win_no: "{n} 号窗口",
		dv_board_ok: "正常",
		dv_board_failing: "故障",
		dv_board_unknown: "尚未写入",
		dv_never: "从未",
		dv_device: "本机",
		dv_firmware: "固件版本",
		dv_board: "主板",
		dv_database: "数据库",
		dv_uplink: "上级平台连接",
		dv_db_ok: "正常",
		dv_db_recovered: "已恢复（损坏的文件已另存：{file}）",
		dv_db_closed: "已关闭",
		dv_up_off: "未启用",
		dv_up_up: "已连接",
		dv_up_down: "未连接",
		dv_cert: "设备证书",
		dv_cert_state: "状态",
		dv_cert_subject: "证书主体",
		dv_cert_expiry: "有效期至",
		dv_cert_days: "剩余天数",
		dv_days: "{n} 天",
		dv_cert_ca: "城市平台根证书",
		dv_ca_yes: "已安装",
		dv_ca_no: "未安装",
		dv_id_no_key: "没有设备密钥",
		dv_id_key_damaged: "设备密钥已损坏",
		dv_id_no_cert: "尚未安装设备证书",
		dv_id_cert_damaged: "设备证书已损坏",
		dv_id_mismatch: "证书与本机密钥不符",
		dv_id_not_yet_valid: "证书尚未生效（请检查设备时钟）",
		dv_id_expired: "证书已过期",
		dv_id_expiring: "证书即将过期",
		dv_id_valid: "有效",
		dv_unknown: "未知（{v}）",
		dv_updated: "更新于 {t}，每 5 秒刷新",
	});
	Object.assign(shell.strings.en, {
		dv_tab: "Device",
		dv_boards: "Window display boards",
		dv_mode: "Connection: {mode}",
		dv_mode_off: "off",
		dv_mode_rtu: "RS-485 bus (RTU)",
		dv_mode_tcp: "network (Modbus TCP)",
		dv_no_boards: "There are no boards to drive.",
		dv_col_window: "Window",
		dv_col_state: "State",
		dv_col_since: "Failing since",
		dv_col_error: "Last error",
		dv_col_write: "Last write",
		dv_win_no: "Window {n}",
		dv_board_ok: "working",
		dv_board_failing: "failing",
		dv_board_unknown: "not written yet",
		dv_never: "never",
		dv_device: "This device",
		dv_firmware: "Firmware",
		dv_board: "Board",
		dv_database: "Database",
		dv_uplink: "Link to the city platform",
		dv_db_ok: "working",
		dv_db_recovered: "recovered (the damaged file was kept as {file})",
		dv_db_closed: "closed",
		dv_up_off: "not enabled",
		dv_up_up: "connected",
		dv_up_down: "not connected",
		dv_cert: "Device certificate",
		dv_cert_state: "State",
		dv_cert_subject: "Subject",
		dv_cert_expiry: "Valid until",
		dv_cert_days: "Days left",
		dv_days: "{n} days",
		dv_cert_ca: "City root certificate",
		dv_ca_yes: "installed",
		dv_ca_no: "not installed",
		dv_id_no_key: "no device key",
		dv_id_key_damaged: "the device key is damaged",
		dv_id_no_cert: "no device certificate installed yet",
		dv_id_cert_damaged: "the device certificate is damaged",
		dv_id_mismatch: "the certificate does not match this device's key",
		dv_id_not_yet_valid: "the certificate is not valid yet (check the device clock)",
		dv_id_expired: "the certificate has expired",
		dv_id_expiring: "the certificate expires soon",
		dv_id_valid: "valid",
		dv_unknown: "unknown ({v})",
		dv_updated: "Updated {t}, refreshed every 5 s",
	});

	const REFRESH_MS = 5000;
	/* how a certificate state is shown: ok, warn (soon a problem) or bad */
	const ID_LEVEL = {
		valid: "ok", expiring: "warn", no_cert: "warn", not_yet_valid: "warn",
		expired: "bad", no_key: "bad", key_damaged: "bad", cert_damaged: "bad", mismatch: "bad",
	};

	const dev = { boards: null, health: null, timer: 0, at: 0, busy: false };

	/* The words for a state from data: our key when we know it, else the raw value. */
	function word(prefix, v, vars) {
		const key = prefix + v;
		return shell.strings[shell.lang()][key] !== undefined ? fmt(key, vars) :
			fmt("dv_unknown", { v: String(v) });
	}

	function ms(v) {
		return typeof v === "number" && v > 0 ? staff.when(v) : t("dv_never");
	}

	function build() {
		return h("div", { id: "sh-device", class: "sh-section dv", hidden: true },
			h("p", { id: "dv-msg", class: "s-msg", role: "status", hidden: true }),
			h("h3", { i18n: "dv_boards" }),
			h("p", { id: "dv-mode", class: "dv-note" }),
			h("table", { id: "dv-boards", class: "s-table dv-boards" },
				h("thead", {}, h("tr", {},
					h("th", { i18n: "dv_col_window" }),
					h("th", { i18n: "dv_col_state" }),
					h("th", { i18n: "dv_col_since" }),
					h("th", { i18n: "dv_col_error" }),
					h("th", { i18n: "dv_col_write" }))),
				h("tbody", { id: "dv-board-rows" })),
			h("div", { class: "dv-grid" },
				h("section", { class: "s-card dv-card" },
					h("h3", { i18n: "dv_device" }),
					h("dl", { id: "dv-device", class: "dv-kv" })),
				h("section", { id: "dv-cert", class: "s-card dv-card" },
					h("h3", { i18n: "dv_cert" }),
					h("dl", { id: "dv-cert-kv", class: "dv-kv" }))),
			h("p", { id: "dv-updated", class: "dv-note" }));
	}

	/* dt/dd pairs; a pair may carry an id and a data-level for the dd */
	function pairs(rows) {
		return rows.flatMap(([key, value, props]) =>
			[h("dt", { i18n: key }), h("dd", Object.assign({ text: value }, props || {}))]);
	}

	function renderBoards() {
		const b = dev.boards;
		const rows = $("dv-board-rows");
		if (!rows) {
			return;
		}
		$("dv-mode").textContent = b ? fmt("dv_mode", { mode: word("dv_mode_", b.mode) }) : "";
		const list = b && Array.isArray(b.boards) ? b.boards : [];
		if (list.length === 0) {
			rows.replaceChildren(b ? h("tr", {}, h("td", { colspan: "5", i18n: "dv_no_boards" })) : "");
			return;
		}
		rows.replaceChildren(...list.map((x) => h("tr", {
			"data-window": String(x.window_no), "data-state": String(x.state),
		},
		h("td", {},
			h("div", { text: fmt("dv_win_no", { n: x.window_no }) }),
			h("div", { class: "dv-addr", text: x.address || "" })),
		h("td", { class: "dv-state", "data-level": x.state === "ok" ? "ok" :
			x.state === "failing" ? "bad" : "warn", text: word("dv_board_", x.state) }),
		h("td", { class: "dv-time", text: x.state === "failing" ? ms(x.failing_since_ms) : "—" }),
		h("td", { class: "dv-error", text: x.last_error || "—" }),
		h("td", { class: "dv-time", text: ms(x.last_write_ms) }))));
	}

	function renderHealth() {
		const hl = dev.health;
		if (!hl || !$("dv-device")) {
			return;
		}
		const board = hl.board || {};
		const db = hl.database || {};
		const up = hl.uplink || {};
		$("dv-device").replaceChildren(...pairs([
			["dv_firmware", String(hl.firmware || "—")],
			["dv_board", [board.name, board.model, board.serial].filter(Boolean).join(" · ") || "—"],
			["dv_database", word("dv_db_", db.state, { file: db.damaged_file || "" }),
				{ id: "dv-db", "data-level": db.state === "ok" ? "ok" : "warn" }],
			["dv_uplink", word("dv_up_", up.state),
				{ id: "dv-uplink", "data-level": up.state === "up" ? "ok" : "text" }],
		]));
		const id = hl.identity || {};
		const level = ID_LEVEL[id.state] || "warn";
		$("dv-cert").dataset.level = level;
		const rows = [["dv_cert_state", word("dv_id_", id.state),
			{ id: "dv-cert-state", "data-level": level, "data-state": String(id.state) }]];
		if (id.subject !== undefined) {
			rows.push(["dv_cert_subject", String(id.subject)]);
		}
		if (typeof id.not_after_ms === "number" || id.not_after) {
			rows.push(["dv_cert_expiry", typeof id.not_after_ms === "number" ?
				staff.when(id.not_after_ms) : String(id.not_after)]);
		}
		if (typeof id.days_left === "number") {
			rows.push(["dv_cert_days", fmt("dv_days", { n: id.days_left }),
				{ "data-level": level }]);
		}
		rows.push(["dv_cert_ca", t(id.ca_installed ? "dv_ca_yes" : "dv_ca_no")]);
		$("dv-cert-kv").replaceChildren(...pairs(rows));
	}

	function render() {
		renderBoards();
		renderHealth();
		const u = $("dv-updated");
		if (u) {
			u.textContent = dev.at ? fmt("dv_updated", { t: staff.when(dev.at) }) : "";
		}
	}

	function shown() {
		const s = $("sh-device");
		return s !== null && !s.hidden && staff.user() !== null;
	}

	async function load() {
		if (dev.busy) {
			return;
		}
		dev.busy = true;
		try {
			const [boards, health] = await Promise.all([
				staff.api("GET", "/api/v1/display/boards"),
				staff.api("GET", "/api/v1/health"),
			]);
			if (!shown()) {
				return;
			}
			dev.boards = boards;
			dev.health = health;
			dev.at = Date.now();
			staff.say($("dv-msg"), null);
			render();
		} catch (e) {
			if (e.status === 401) {
				close(); /* the staff shell has gone back to the login screen */
			} else if (shown()) {
				staff.say($("dv-msg"), staff.errMsg(e));
			}
		} finally {
			dev.busy = false;
		}
	}

	function open() {
		close();
		dev.boards = null;
		dev.health = null;
		dev.at = 0;
		staff.say($("dv-msg"), null);
		render();
		load();
		dev.timer = setInterval(() => {
			if (shown()) {
				load();
			} else {
				close();
			}
		}, REFRESH_MS);
	}

	function close() {
		clearInterval(dev.timer);
		dev.timer = 0;
	}

	staff.addTab({ tab: "device", key: "dv_tab", roles: ["technician", "supervisor"],
		build, open, render, close });
})();
