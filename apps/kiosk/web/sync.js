/*
 * Sync screens of the kiosk (docs/local-api.md, "Sync with the city"): a
 * compact backlog panel on the work-orders home that every staff role sees
 * (how many events wait to go to the city, how long the oldest has waited,
 * the last successful sync, the state and the last error in plain words),
 * and the tab 同步 / Sync for supervisors and technicians with the same
 * panel plus the city's address, the clock difference, "retry now", the
 * events the city rejected and the items from the city that could not be
 * applied, which a supervisor resolves with a note.
 *
 * The one rule a reader needs: the words come from the state the server
 * reports (GET /api/v1/sync/status), never from a guess here; an error is
 * shown in the server's own message_zh / message. The panel refreshes every
 * 10 s while it is on screen and the page is visible, and stops otherwise.
 * Plain JS, no inline script or style (CSP); every text from data is set
 * with textContent (h()).
 */
"use strict";

(() => {
	const staff = window.kioskStaff;
	if (!staff) {
		return;
	}
	const { shell, t, h, fmt, $ } = staff;

	Object.assign(shell.strings.zh, {
		sy_tab: "同步",
		sy_title: "与市平台同步",
		sy_waiting: "待发送",
		sy_waiting_n: "{n} 条",
		sy_oldest: "最早一条",
		sy_oldest_age: "已等待 {age}",
		sy_oldest_fresh: "等待不到 1 分钟",
		sy_at: "（{t}）",
		sy_none_waiting: "没有待发送的数据",
		sy_last_ok: "上次同步成功",
		sy_last_ok_at: "{t}（{age}前）",
		sy_never: "还没有成功同步过",
		sy_error: "最近的错误",
		sy_st_idle: "已同步",
		sy_st_idle_waiting: "有新数据，稍后自动发送",
		sy_st_busy: "正在发送",
		sy_st_starting: "正在连接市平台",
		sy_st_backoff: "网络中断，稍后自动重试",
		sy_st_backoff_in: "网络中断，约 {n} 秒后自动重试",
		sy_st_halted: "已停止：需要技术员处理",
		sy_st_stopped: "同步已停止",
		sy_st_off: "未启用同步",
		sy_st_unknown: "同步状态未知（{v}）",
		sy_no_answer: "暂时读不到同步状态。",
		sy_less_minute: "不到 1 分钟",
		sy_minutes: "{n} 分钟",
		sy_hours: "{n} 小时",
		sy_days: "{n} 天",
		sy_more_tab: "详情",
		sy_city: "市平台地址",
		sy_uplink: "政务外网链路",
		sy_up_up: "正常",
		sy_up_down: "断开",
		sy_up_off: "未启用",
		sy_clock: "本机时钟",
		sy_clock_same: "与市平台一致（相差不到 1 秒）",
		sy_clock_fast: "比市平台快 {d}",
		sy_clock_slow: "比市平台慢 {d}",
		sy_clock_unknown: "尚未与市平台对时",
		sy_clock_checked: "（{t} 核对）",
		sy_secs: "{n} 秒",
		sy_kick: "立即重试",
		sy_kicked: "已开始重试。",
		sy_updated: "更新于 {t}，每 10 秒刷新",
		sy_parked: "市平台拒收的数据",
		sy_parked_help: "这些数据市平台没有接收，已单独放置，不影响其他数据发送。请技术员根据原因处理。",
		sy_parked_none: "没有被拒收的数据。",
		sy_conflicts: "市平台下发但无法应用的条目",
		sy_conflicts_help: "市平台的这些指令与本机记录不一致，没有自动执行。主管核实处理后，写明做了什么并标记为已处理。",
		sy_conflicts_none: "没有待处理的冲突。",
		sy_col_time: "时间",
		sy_col_seq: "序号",
		sy_col_type: "类型",
		sy_col_reason: "原因",
		sy_col_item: "内容",
		sy_col_state: "状态",
		sy_open: "待处理",
		sy_resolved: "已由 {who} 于 {t} 处理",
		sy_resolve: "标记为已处理",
		sy_resolve_text: "处理冲突：{item}。请写明已做了什么（必填）：",
		sy_note: "处理说明",
		sy_need_note: "请填写处理说明。",
		sy_note_long: "处理说明最多 500 个字。",
		sy_resolved_ok: "已标记为已处理。",
		sy_show_all: "也显示已处理的",
		sy_more: "更多",
		sy_total: "共 {n} 条",
		sy_off_help: "本机没有配置市平台或设备证书，数据保存在本机。",
		sy_conflicts_note: "市平台有 {n} 条指令与本机记录不一致，没有自动执行，需主管在“同步”页核实处理。",
		sy_parked_note: "市平台拒收了 {n} 条数据，已单独放置，需技术员在“同步”页查看原因。",
		sy_dec_approved: "同意",
		sy_dec_rejected: "不同意",
		sy_res_satisfied: "满意",
		sy_res_lawful: "依法答复",
		sy_res_unsatisfied: "不满意",
		"sy_type_order.dispatch": "派单",
		"sy_type_order.recall": "撤回工单",
		"sy_type_order.notice": "催办/督办",
		"sy_type_order.return_decision": "退回审批",
		"sy_type_order.extension_decision": "延期审批",
		"sy_type_order.visit_result": "回访结果",
		"sy_type_calendar.year": "工作日历",
		"sy_type_order.delivered": "工单已送达",
		"sy_type_order.received": "签收",
		"sy_type_order.assigned": "交办",
		"sy_type_order.drafted": "拟写答复",
		"sy_type_order.replied": "答复",
		"sy_type_order.return_requested": "申请退回",
		"sy_type_order.extension_requested": "申请延期",
		"sy_type_order.attachment_added": "添加附件",
		"sy_type_order.notice_acked": "确认督办",
	});
	Object.assign(shell.strings.en, {
		sy_tab: "Sync",
		sy_title: "Sync with the city",
		sy_waiting: "Waiting to send",
		sy_waiting_n: "{n}",
		sy_oldest: "Oldest",
		sy_oldest_age: "waiting for {age}",
		sy_oldest_fresh: "waiting for less than a minute",
		sy_at: " ({t})",
		sy_none_waiting: "Nothing is waiting to be sent",
		sy_last_ok: "Last successful sync",
		sy_last_ok_at: "{t} ({age} ago)",
		sy_never: "never yet",
		sy_error: "Last error",
		sy_st_idle: "Up to date",
		sy_st_idle_waiting: "New data, sent shortly",
		sy_st_busy: "Sending",
		sy_st_starting: "Connecting to the city platform",
		sy_st_backoff: "Link down; retrying automatically",
		sy_st_backoff_in: "Link down; retrying automatically in about {n} s",
		sy_st_halted: "Stopped: a technician must act",
		sy_st_stopped: "Sync is stopped",
		sy_st_off: "Sync is not set up",
		sy_st_unknown: "Sync state unknown ({v})",
		sy_no_answer: "The sync state cannot be read just now.",
		sy_less_minute: "less than a minute",
		sy_minutes: "{n} min",
		sy_hours: "{n} h",
		sy_days: "{n} days",
		sy_more_tab: "Details",
		sy_city: "City platform",
		sy_uplink: "Extranet link",
		sy_up_up: "up",
		sy_up_down: "down",
		sy_up_off: "not in use",
		sy_clock: "Device clock",
		sy_clock_same: "agrees with the city (within 1 s)",
		sy_clock_fast: "{d} ahead of the city",
		sy_clock_slow: "{d} behind the city",
		sy_clock_unknown: "not yet checked against the city",
		sy_clock_checked: " (checked {t})",
		sy_secs: "{n} s",
		sy_kick: "Retry now",
		sy_kicked: "Retrying now.",
		sy_updated: "Updated {t}, refreshed every 10 s",
		sy_parked: "Data the city refused",
		sy_parked_help: "The city did not accept these; they are set aside and do not hold up the rest. A technician should act on the reason.",
		sy_parked_none: "Nothing was refused.",
		sy_conflicts: "Items from the city that could not be applied",
		sy_conflicts_help: "These instructions from the city disagree with this device's records and were not carried out. A supervisor checks them, notes what was done and marks them resolved.",
		sy_conflicts_none: "No conflicts to resolve.",
		sy_col_time: "Time",
		sy_col_seq: "Seq",
		sy_col_type: "Type",
		sy_col_reason: "Reason",
		sy_col_item: "Item",
		sy_col_state: "State",
		sy_open: "open",
		sy_resolved: "resolved by {who} at {t}",
		sy_resolve: "Mark resolved",
		sy_resolve_text: "Resolve the conflict: {item}. Note what was done (required):",
		sy_note: "Note",
		sy_need_note: "Please write a note.",
		sy_note_long: "The note may hold at most 500 characters.",
		sy_resolved_ok: "Marked resolved.",
		sy_show_all: "Show resolved too",
		sy_more: "More",
		sy_total: "{n} in all",
		sy_off_help: "No city platform or device certificate is set up; data is kept on this device.",
		sy_conflicts_note: "{n} instruction(s) from the city disagree with this device's records and were not carried out; a supervisor checks them on the Sync page.",
		sy_parked_note: "The city refused {n} item(s); they are set aside. A technician sees why on the Sync page.",
		sy_dec_approved: "approved",
		sy_dec_rejected: "rejected",
		sy_res_satisfied: "satisfied",
		sy_res_lawful: "lawful",
		sy_res_unsatisfied: "unsatisfied",
		"sy_type_order.dispatch": "dispatch",
		"sy_type_order.recall": "recall",
		"sy_type_order.notice": "urging notice",
		"sy_type_order.return_decision": "return decision",
		"sy_type_order.extension_decision": "extension decision",
		"sy_type_order.visit_result": "visit result",
		"sy_type_calendar.year": "working calendar",
		"sy_type_order.delivered": "order delivered",
		"sy_type_order.received": "signed for",
		"sy_type_order.assigned": "assigned",
		"sy_type_order.drafted": "reply drafted",
		"sy_type_order.replied": "reply",
		"sy_type_order.return_requested": "return request",
		"sy_type_order.extension_requested": "extension request",
		"sy_type_order.attachment_added": "attachment",
		"sy_type_order.notice_acked": "notice acknowledged",
	});

	const API = "/api/v1/sync";
	const REFRESH_MS = 10000;
	const PAGE = 50;
	const NOTE_MAX = 500;

	const st = {
		status: null, /* the last GET /sync/status */
		statusAt: 0, /* when it came (local ms) */
		statusErr: null, /* the words of the last failure to read it */
		timer: 0,
		busy: false,
		parked: { rows: [], total: 0, loaded: false },
		conflicts: { rows: [], total: 0, loaded: false, all: false },
	};

	function role() {
		const u = staff.user();
		return u ? u.role : "";
	}

	function mayKick() {
		return role() === "supervisor" || role() === "technician";
	}

	function num(v) {
		return typeof v === "number" && isFinite(v) ? v : null;
	}

	/* "2 小时" / "2 h": a duration in the largest unit that fits. */
	function ageWords(ms) {
		const m = Math.floor(Math.max(0, ms) / 60000);
		if (m < 1) {
			return t("sy_less_minute");
		}
		if (m < 60) {
			return fmt("sy_minutes", { n: m });
		}
		if (m < 48 * 60) {
			return fmt("sy_hours", { n: Math.floor(m / 60) });
		}
		return fmt("sy_days", { n: Math.floor(m / 1440) });
	}

	function secsWords(ms) {
		const s = Math.abs(ms) / 1000;
		if (s < 120) {
			return fmt("sy_secs", { n: s < 10 ? s.toFixed(1) : Math.round(s) });
		}
		return ageWords(Math.abs(ms));
	}

	/* Our word for a type, else the type as sent. */
	function typeWord(type) {
		const v = shell.strings[shell.lang()]["sy_type_" + type];
		return v !== undefined ? v : String(type || "");
	}

	/* The server's words in the language shown: {zh, en} from message_zh/message. */
	function theirs(zh, en) {
		return (shell.lang() === "zh" ? zh || en : en || zh) || "";
	}

	/* The state in words and its level (ok, busy, warn, bad, off). */
	function stateWords(s) {
		const waiting = num(s.waiting) || 0;
		switch (s.state) {
		case "idle":
			return waiting > 0 ? ["sy_st_idle_waiting", "busy"] : ["sy_st_idle", "ok"];
		case "busy":
			return ["sy_st_busy", "busy"];
		case "starting":
			return ["sy_st_starting", "busy"];
		case "backoff":
			return ["sy_st_backoff", "warn"];
		case "halted":
			return ["sy_st_halted", "bad"];
		case "stopped":
			return ["sy_st_stopped", "bad"];
		case "off":
			return ["sy_st_off", "off"];
		default:
			return [null, "warn"];
		}
	}

	/* ---- the panel: the same on the orders home (sy-h-) and the tab (sy-t-) ---- */

	function buildPanel(p) {
		const row = (key, id) => [h("dt", { i18n: key }), h("dd", { id: p + id })];
		return h("div", { class: "sy-panel-body" },
			h("div", { class: "sy-head" },
				p === "sy-h-" ? h("span", { class: "sy-label", i18n: "sy_title" }) : null,
				h("span", { id: p + "state", class: "sy-state", "data-level": "off" }),
				h("span", { id: p + "updated", class: "sy-updated" }),
				p === "sy-h-" ? h("button", { id: "sy-h-details", type: "button", class: "s-small",
					i18n: "sy_more_tab", hidden: true, on: { click: () => {
						const b = document.querySelector('.sh-tab[data-tab="sync"]');
						if (b) {
							b.click();
						}
					} } }) : null),
			h("dl", { class: "sy-kv" },
				...row("sy_waiting", "waiting"),
				...row("sy_oldest", "oldest"),
				...row("sy_last_ok", "last-ok")),
			h("p", { id: p + "error", class: "sy-error", role: "status", hidden: true }),
			h("p", { id: p + "conflicts", class: "sy-note", hidden: true }),
			h("p", { id: p + "parked", class: "sy-note", hidden: true }),
			h("p", { id: p + "storage", class: "sy-error", role: "status", hidden: true }),
			h("p", { id: p + "off", class: "sy-off", hidden: true }));
	}

	function renderPanel(p) {
		const root = $(p + "state");
		if (!root) {
			return;
		}
		const s = st.status;
		const err = $(p + "error");
		if (!s) {
			root.textContent = st.statusErr ? t("sy_no_answer") : "";
			root.dataset.level = st.statusErr ? "warn" : "off";
			for (const id of ["waiting", "oldest", "last-ok", "updated"]) {
				$(p + id).textContent = "";
			}
			$(p + "off").hidden = true;
			$(p + "storage").hidden = true;
			$(p + "conflicts").hidden = true;
			$(p + "parked").hidden = true;
			staff.say(err, st.statusErr);
			return;
		}
		const [key, level] = stateWords(s);
		const retry = num(s.retry_in_ms);
		/* a countdown only when it outlasts the next refresh; else it would go stale */
		root.textContent = key === "sy_st_backoff" && retry !== null && retry > 2 * REFRESH_MS ?
			fmt("sy_st_backoff_in", { n: Math.max(1, Math.ceil(retry / 1000)) }) :
			key ? t(key) : fmt("sy_st_unknown", { v: String(s.state) });
		root.dataset.level = level;
		root.dataset.state = String(s.state);

		const waiting = num(s.waiting) || 0;
		const w = $(p + "waiting");
		w.textContent = fmt("sy_waiting_n", { n: waiting });
		w.dataset.n = String(waiting);
		w.dataset.level = waiting > 0 ? "warn" : "ok";

		const age = num(s.oldest_age_ms);
		$(p + "oldest").textContent = waiting > 0 && age !== null ?
			(age < 60000 ? t("sy_oldest_fresh") : fmt("sy_oldest_age", { age: ageWords(age) })) +
				(p === "sy-t-" && num(s.oldest_ms) ? fmt("sy_at", { t: staff.when(s.oldest_ms) }) : "") :
			t("sy_none_waiting");

		const ok = num(s.last_ok_ms);
		const lastOk = $(p + "last-ok");
		lastOk.textContent = ok ? fmt("sy_last_ok_at", {
			t: staff.when(ok), age: ageWords(Math.max(0, Date.now() - ok)),
		}) : t("sy_never");
		lastOk.dataset.known = ok ? "1" : "0";

		const e = s.last_error;
		if (e && (e.message || e.message_zh)) {
			staff.say(err, { zh: e.message_zh, en: e.message }, "error");
			err.dataset.code = String(e.code || "");
		} else {
			staff.say(err, null);
			delete err.dataset.code;
		}
		/* what needs a person, for every role: conflicts (supervisor), refusals (technician) */
		const nc = num(s.conflicts) || 0;
		const np = num(s.parked) || 0;
		$(p + "conflicts").textContent = nc > 0 ? fmt("sy_conflicts_note", { n: nc }) : "";
		$(p + "conflicts").hidden = nc === 0 || p === "sy-t-"; /* the tab lists them */
		$(p + "parked").textContent = np > 0 ? fmt("sy_parked_note", { n: np }) : "";
		$(p + "parked").hidden = np === 0 || p === "sy-t-";
		/* storage running short: the server's words (what is refused, what to do) */
		const sto = $(p + "storage");
		const lvl = s.storage && s.storage.level;
		sto.textContent = lvl && lvl !== "ok" ? theirs(s.storage.message_zh, s.storage.message) : "";
		sto.hidden = !lvl || lvl === "ok";
		sto.dataset.level = lvl || "";
		const off = $(p + "off");
		if (s.state === "off") {
			const r = s.off_reason;
			const words = r && typeof r === "object" ? theirs(r.message_zh, r.message) :
				typeof r === "string" ? r : "";
			off.textContent = words || t("sy_off_help");
			off.hidden = false;
		} else {
			off.hidden = true;
		}
		if ($(p + "details")) {
			$(p + "details").hidden = !mayKick();
		}
		$(p + "updated").textContent = st.statusAt ?
			fmt("sy_updated", { t: staff.when(st.statusAt).slice(11) }) : "";
	}

	/* ---- refreshing while on screen ---- */

	function onScreen(id) {
		const el = $(id);
		return el !== null && staff.user() !== null && document.visibilityState === "visible" &&
			el.getClientRects().length > 0;
	}

	function wanted() {
		return onScreen("sy-home") || onScreen("sh-sync");
	}

	async function loadStatus() {
		if (st.busy) {
			return;
		}
		st.busy = true;
		try {
			st.status = await staff.api("GET", API + "/status");
			st.statusErr = null;
			st.statusAt = Date.now();
		} catch (e) {
			if (e.status === 401) {
				return;
			}
			st.status = null;
			st.statusErr = staff.errMsg(e);
		} finally {
			st.busy = false;
		}
		renderAll();
	}

	function tick() {
		if (wanted()) {
			loadStatus();
			/* the lists refresh too, unless more than a page is shown (More keeps its place) */
			if (onScreen("sh-sync") && st.parked.rows.length <= PAGE &&
				st.conflicts.rows.length <= PAGE) {
				loadLists();
			}
		}
	}

	function renderAll() {
		renderPanel("sy-h-");
		renderPanel("sy-t-");
		renderTabExtra();
	}

	/* ---- the tab ---- */

	function buildTab() {
		return h("div", { id: "sh-sync", class: "sh-section sy", hidden: true },
			h("h3", { i18n: "sy_title" }),
			h("section", { id: "sy-tab-panel", class: "s-card sy-panel" },
				buildPanel("sy-t-"),
				h("dl", { class: "sy-kv" },
					h("dt", { i18n: "sy_city" }), h("dd", { id: "sy-t-city", class: "sy-mono" }),
					h("dt", { i18n: "sy_uplink" }), h("dd", { id: "sy-t-uplink" }),
					h("dt", { i18n: "sy_clock" }), h("dd", { id: "sy-t-clock" })),
				h("div", { class: "s-row" },
					h("button", { id: "sy-kick", type: "button", class: "s-primary", i18n: "sy_kick",
						on: { click: kick } })),
				h("p", { id: "sy-kick-msg", class: "s-msg", role: "status", hidden: true })),
			h("section", { id: "sy-parked-box", class: "sy-list", hidden: true },
				h("h3", {}, h("span", { i18n: "sy_parked" }), " ",
					h("span", { id: "sy-parked-total", class: "sy-count" })),
				h("p", { class: "sy-help", i18n: "sy_parked_help" }),
				h("p", { id: "sy-parked-msg", class: "s-msg", role: "status", hidden: true }),
				h("table", { id: "sy-parked", class: "s-table sy-table" },
					h("thead", {}, h("tr", {},
						...["sy_col_time", "sy_col_seq", "sy_col_type", "sy_col_reason"].map((k) =>
							h("th", { i18n: k })))),
					h("tbody", {})),
				h("button", { id: "sy-parked-more", type: "button", class: "s-small", i18n: "sy_more",
					hidden: true, on: { click: () => loadParked(true) } })),
			h("section", { id: "sy-conflicts-box", class: "sy-list" },
				h("h3", {}, h("span", { i18n: "sy_conflicts" }), " ",
					h("span", { id: "sy-conflicts-total", class: "sy-count" })),
				h("p", { class: "sy-help", i18n: "sy_conflicts_help" }),
				h("label", { class: "sy-check" },
					h("input", { id: "sy-conflicts-all", type: "checkbox", on: { change: (e) => {
						st.conflicts.all = e.target.checked;
						loadConflicts(false);
					} } }),
					h("span", { i18n: "sy_show_all" })),
				h("p", { id: "sy-conflicts-msg", class: "s-msg", role: "status", hidden: true }),
				h("table", { id: "sy-conflicts", class: "s-table sy-table" },
					h("thead", {}, h("tr", {},
						...["sy_col_time", "sy_col_type", "sy_col_item", "sy_col_reason", "sy_col_state"]
							.map((k) => h("th", { i18n: k })))),
					h("tbody", {})),
				h("button", { id: "sy-conflicts-more", type: "button", class: "s-small", i18n: "sy_more",
					hidden: true, on: { click: () => loadConflicts(true) } })));
	}

	function renderTabExtra() {
		if (!$("sy-t-city")) {
			return;
		}
		const s = st.status;
		const c = s && s.city ? s.city : null;
		$("sy-t-city").textContent = c && (c.host || c.address) ?
			(c.host || "") + (c.address ? "（" + c.address + (c.port ? ":" + c.port : "") + "）" : "") :
			"—";
		const up = s ? String(s.uplink || "off") : "";
		const upKey = "sy_up_" + up;
		$("sy-t-uplink").textContent = !s ? "—" :
			shell.strings[shell.lang()][upKey] !== undefined ? t(upKey) : up;
		$("sy-t-uplink").dataset.level = up === "up" ? "ok" : up === "down" ? "warn" : "text";
		const clock = s && s.clock ? s.clock : null;
		const el = $("sy-t-clock");
		if (!clock || !clock.known || num(clock.offset_ms) === null) {
			el.textContent = s ? t("sy_clock_unknown") : "—";
			el.dataset.level = "text";
		} else {
			/* offset = city - device: a negative offset means the device runs ahead */
			const off = clock.offset_ms;
			const words = Math.abs(off) < 1000 ? t("sy_clock_same") :
				fmt(off < 0 ? "sy_clock_fast" : "sy_clock_slow", { d: secsWords(off) });
			el.textContent = words + (num(clock.checked_ms) ?
				fmt("sy_clock_checked", { t: staff.when(clock.checked_ms) }) : "");
			el.dataset.level = Math.abs(off) >= 120000 ? "warn" : "ok";
		}
		$("sy-kick").hidden = !mayKick();
		renderParked();
		renderConflicts();
	}

	async function kick() {
		const b = $("sy-kick");
		const msg = $("sy-kick-msg");
		b.disabled = true;
		try {
			await staff.api("POST", API + "/kick", {});
			staff.say(msg, { key: "sy_kicked" }, "ok");
		} catch (e) {
			if (e.status !== 401) {
				staff.say(msg, staff.errMsg(e));
			}
		} finally {
			b.disabled = false;
		}
		/* the round runs on the worker; show its progress soon after */
		await loadStatus();
		setTimeout(() => {
			if (onScreen("sh-sync")) {
				loadStatus();
				loadLists();
			}
		}, 1500);
	}

	function loadLists() {
		if (role() === "technician" || role() === "supervisor") {
			loadParked(false);
		}
		loadConflicts(false);
	}

	/* One page of a list: more=true appends the page before the last row shown. */
	async function loadPage(list, path, key, more, msgId) {
		const q = new URLSearchParams({ limit: String(PAGE) });
		if (more && list.rows.length > 0) {
			q.set("before", String(list.rows[list.rows.length - 1][key]));
		}
		try {
			const r = await staff.api("GET", path + (path.includes("?") ? "&" : "?") + q);
			const rows = Array.isArray(r.rows) ? r.rows : [];
			list.rows = more ? list.rows.concat(rows) : rows;
			list.total = num(r.total) || 0;
			list.loaded = true;
			list.more = rows.length === PAGE && list.rows.length < list.total;
			staff.say($(msgId), null);
		} catch (e) {
			if (e.status !== 401) {
				staff.say($(msgId), staff.errMsg(e));
			}
		}
	}

	async function loadParked(more) {
		await loadPage(st.parked, API + "/parked", "seq", more, "sy-parked-msg");
		renderParked();
	}

	async function loadConflicts(more) {
		await loadPage(st.conflicts, API + "/conflicts" + (st.conflicts.all ? "" : "?open=1"), "id",
			more, "sy-conflicts-msg");
		renderConflicts();
	}

	function renderParked() {
		const box = $("sy-parked-box");
		if (!box) {
			return;
		}
		box.hidden = !(role() === "technician" || role() === "supervisor");
		const p = st.parked;
		$("sy-parked-total").textContent = p.loaded ? fmt("sy_total", { n: p.total }) : "";
		const body = $("sy-parked").tBodies[0];
		if (p.rows.length === 0) {
			body.replaceChildren(p.loaded ? h("tr", {}, h("td", { colspan: "4", i18n: "sy_parked_none" })) : "");
		} else {
			body.replaceChildren(...p.rows.map((r) => h("tr", { "data-seq": String(r.seq) },
				h("td", { class: "sy-time", text: num(r.parked_ms) ? staff.when(r.parked_ms) : "" }),
				h("td", { class: "sy-time", text: String(r.seq) }),
				h("td", { text: typeWord(r.type), title: String(r.type || "") }),
				h("td", { class: "sy-reason", text: theirs(r.message_zh, r.message) || String(r.code || "") }))));
		}
		$("sy-parked-more").hidden = !p.more;
	}

	/* A line naming the item: its number and title, else what it has. */
	function itemSummary(r) {
		const it = r.item && typeof r.item === "object" ? r.item : {};
		const parts = [];
		for (const k of ["number", "title", "year", "kind", "decision", "result", "reason", "text"]) {
			if (typeof it[k] === "string" || typeof it[k] === "number") {
				const own = k === "decision" ? "sy_dec_" : k === "result" ? "sy_res_" : null;
				const w = own ? shell.strings[shell.lang()][own + it[k]] : undefined;
				parts.push(w !== undefined ? w : String(it[k]));
			}
		}
		const s = parts.join(" · ") || String(r.item_id || "");
		return s.length > 120 ? s.slice(0, 119) + "…" : s;
	}

	function renderConflicts() {
		const body = $("sy-conflicts") ? $("sy-conflicts").tBodies[0] : null;
		if (!body) {
			return;
		}
		const c = st.conflicts;
		$("sy-conflicts-total").textContent = c.loaded ? fmt("sy_total", { n: c.total }) : "";
		$("sy-conflicts-all").checked = c.all;
		if (c.rows.length === 0) {
			body.replaceChildren(c.loaded ? h("tr", {}, h("td", { colspan: "5", i18n: "sy_conflicts_none" })) : "");
		} else {
			body.replaceChildren(...c.rows.map((r) => {
				const done = num(r.resolved_ms) !== null;
				return h("tr", { "data-id": String(r.id), "data-code": String(r.code || ""),
					class: done ? "is-disabled" : "" },
				h("td", { class: "sy-time", text: num(r.at_ms) ? staff.when(r.at_ms) : "" }),
				h("td", { text: typeWord(r.type), title: String(r.type || "") }),
				h("td", { class: "sy-item", text: itemSummary(r) }),
				h("td", { class: "sy-reason", text: theirs(r.reason_zh, r.reason) || String(r.code || "") }),
				h("td", {}, done ?
					h("span", { class: "sy-done", text: fmt("sy_resolved", {
						who: r.resolved_by || "", t: staff.when(r.resolved_ms) }) }) :
					role() === "supervisor" ?
						h("button", { type: "button", class: "s-small", "data-resolve": String(r.id),
							i18n: "sy_resolve", on: { click: () => resolve(r) } }) :
						h("span", { class: "sy-open", i18n: "sy_open" })));
			}));
		}
		$("sy-conflicts-more").hidden = !c.more;
	}

	function resolve(r) {
		const note = h("textarea", { id: "sy-note", class: "s-input sy-note", rows: "3",
			maxlength: String(NOTE_MAX) });
		staff.dialog({
			text: { key: "sy_resolve_text", vars: { item: itemSummary(r) } },
			body: staff.field("sy_note", note),
			confirmKey: "sy_resolve",
			run: async (msg) => {
				const v = note.value.trim();
				if (v === "") {
					staff.say(msg, { key: "sy_need_note" });
					note.focus();
					return false;
				}
				if (Array.from(v).length > NOTE_MAX) {
					staff.say(msg, { key: "sy_note_long" });
					return false;
				}
				await staff.api("POST", API + "/conflicts/" + encodeURIComponent(r.id) + "/resolve",
					{ note: v });
				staff.say($("sy-conflicts-msg"), { key: "sy_resolved_ok" }, "ok");
				await Promise.all([loadConflicts(false), loadStatus()]);
				return true;
			},
		});
	}

	function openTab() {
		st.parked = { rows: [], total: 0, loaded: false };
		st.conflicts = { rows: [], total: 0, loaded: false, all: st.conflicts.all };
		staff.say($("sy-kick-msg"), null);
		renderAll();
		loadStatus();
		loadLists();
	}

	/* ---- start ---- */

	shell.onRender(() => renderAll());

	staff.addTab({ tab: "sync", key: "sy_tab", roles: ["supervisor", "technician"],
		build: buildTab, open: openTab, render: renderAll });

	document.addEventListener("DOMContentLoaded", () => {
		/* The orders home leaves a place for the panel (orders.js, #sy-home). */
		const home = $("sy-home");
		if (home) {
			home.replaceChildren(buildPanel("sy-h-"));
			home.hidden = false;
			/* the orders tab shown again: fresh figures at once, not after 10 s */
			const orders = $("sh-orders");
			if (orders) {
				new MutationObserver(() => {
					if (onScreen("sy-home")) {
						loadStatus();
					}
				}).observe(orders, { attributes: true, attributeFilter: ["hidden"] });
			}
		}
		st.timer = setInterval(tick, REFRESH_MS);
		document.addEventListener("visibilitychange", tick);
	});
})();
