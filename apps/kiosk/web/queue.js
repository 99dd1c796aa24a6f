/*
 * Queue screens of the kiosk: the citizen's take-a-ticket flow behind the
 * home tile 取号, the staff window screen (call, recall, no-show, start,
 * finish, hold, transfer, reprint) and, for supervisors, the queue settings
 * and today's figures as bar charts. The citizen flow is a screen of the
 * shell (kioskShell.onTile); the staff pages are tabs of the staff home
 * (kioskStaff.addTab), so login, CSRF, 401 and the idle rule stay there.
 *
 * The one rule a reader needs: a ticket exists only once the server says
 * so. The citizen screen shows a number only from a 201 answer; on a
 * printer failure it shows the API's own words and offers the number on
 * screen (a separate call) or another try, never a number of its own.
 * Plain JS, no external resources, no inline script or style (CSP); the
 * charts are SVG built with createElementNS and styled from queue.css.
 */
"use strict";

(() => {
	const shell = window.kioskShell;
	const staff = window.kioskStaff;

	Object.assign(shell.strings.zh, {
		q_title: "取号",
		q_choose: "请选择要办理的业务",
		q_large: "大字",
		q_normal_text: "标准字",
		q_back: "返回首页",
		q_prev: "上一步",
		q_waiting: "等候 {n} 人",
		q_est: "预计等候约 {n} 分钟",
		q_est_none: "现在基本无需等候",
		q_no_services: "目前没有可取号的业务，请咨询工作人员。",
		q_closed_title: "现在不在取号时间",
		q_paused_title: "取号暂停",
		q_closed_msg: "大厅取号已结束或尚未开始。",
		q_paused_msg: "工作人员暂停了取号，请稍候或咨询工作人员。",
		q_next_open: "下次开始取号：{t}",
		q_next_unknown: "开始取号时间请咨询工作人员或留意大厅通知。",
		q_today: "今天 {t}",
		q_tomorrow: "明天 {t}",
		q_date: "{m}月{d}日 {w} {t}",
		q_docs: "办理这项业务请准备：",
		q_no_docs: "这项业务不需要另外准备材料。",
		q_lane: "请选择排队方式",
		q_lane_normal: "普通取号",
		q_lane_priority: "绿色通道",
		q_lane_who: "适用于：老年人、残疾人、孕妇、军人",
		q_take: "打印号票",
		q_printing: "正在打印…",
		q_printing_help: "请稍候，号票正在打印。",
		q_your_number: "您的号码",
		q_ahead: "前面还有 {n} 人",
		q_ahead_none: "前面没有人，请留意叫号",
		q_take_slip: "请取走号票，留意大厅屏幕和广播叫号。",
		q_on_screen: "请记下或拍下您的号码，留意大厅屏幕和广播叫号。",
		q_priority_mark: "绿色通道",
		q_done: "完成",
		q_returning: "{n} 秒后返回首页",
		q_show_screen: "在屏幕上显示号码",
		q_retry: "重试",
		q_failed: "没能取号，请重试或咨询工作人员。",
		q_no_service: "本机服务无响应，请咨询工作人员。",
		q_tab_window: "窗口叫号",
		q_tab_config: "叫号设置",
		q_tab_stats: "叫号统计",
		q_window: "窗口",
		q_choose_window: "请选择窗口",
		q_win_no: "{n} 号窗口",
		q_state_open: "开放",
		q_state_paused: "暂停",
		q_state_closed: "关闭",
		q_open: "开窗",
		q_pause: "暂停",
		q_close: "关窗",
		q_call_next: "叫下一位",
		q_recall: "重呼",
		q_recalled: "已重呼 {n} 次",
		q_recall_max: "已重呼 {n}/{max} 次",
		q_no_show: "未到",
		q_start: "开始办理",
		q_finish: "办结",
		q_hold: "挂起",
		q_resume: "恢复",
		q_transfer: "转移",
		q_reprint: "补打号票",
		q_current: "当前号码",
		q_none: "当前没有号码。请点“叫下一位”。",
		q_tstate_waiting: "等候中",
		q_tstate_called: "已叫号，等待到场",
		q_tstate_serving: "办理中",
		q_tstate_held: "已挂起",
		q_tstate_done: "已办结",
		q_tstate_no_show: "未到",
		q_held: "挂起的号码",
		q_no_held: "没有挂起的号码。",
		q_waiting_counts: "本窗口业务的等候人数",
		q_queue_empty: "没有等候的号码。",
		q_announce: "请 {num} 号到 {win} 号窗口办理",
		q_transfer_title: "把 {num} 转到：",
		q_to_service: "其他业务",
		q_to_window: "其他窗口",
		q_note: "备注（说明转移原因）",
		q_saved: "已保存。",
		q_reprinted: "已补打 {num}。",
		q_refresh: "刷新",
		q_cfg_services: "业务",
		q_cfg_windows: "窗口",
		q_cfg_hours: "开放时间",
		q_cfg_general: "其他设置",
		q_cfg_add_service: "添加业务",
		q_cfg_add_window: "添加窗口",
		q_cfg_remove: "删除",
		q_cfg_open_day: "开放",
		q_cfg_from: "开始",
		q_cfg_to: "结束",
		q_cfg_hours_help: "时间格式 HH:MM；24:00 表示到午夜。",
		q_cfg_save: "保存设置",
		q_cfg_reload: "放弃修改",
		q_cfg_list_help: "每行一项",
		q_cfg_ids_help: "用逗号分隔，按优先顺序",
		q_stats_day: "日期",
		q_stats_show: "查看",
		q_stats_wait: "各业务等候时间（取号到叫号）",
		q_stats_service: "各窗口办理时间（开始到办结）",
		q_secs: "{n} 秒",
		q_mins: "{n} 分钟",
		q_stats_noshow: "各业务未到率",
		q_stats_median: "中位数",
		q_stats_p90: "90% 分位",
		q_stats_count: "{n} 人",
		q_stats_empty: "这一天还没有数据。",
	});
	Object.assign(shell.strings.en, {
		q_title: "Take a ticket",
		q_choose: "Please choose the service you need",
		q_large: "Large text",
		q_normal_text: "Normal text",
		q_back: "Back to home",
		q_prev: "Back",
		q_waiting: "{n} waiting",
		q_est: "About {n} min wait",
		q_est_none: "Little or no wait now",
		q_no_services: "No service is taking tickets now. Please ask the staff.",
		q_closed_title: "Tickets are not being issued now",
		q_paused_title: "Ticket issuing is paused",
		q_closed_msg: "The hall is closed for tickets, or has not opened yet.",
		q_paused_msg: "The staff have paused ticket issuing. Please wait or ask the staff.",
		q_next_open: "Tickets are issued again: {t}",
		q_next_unknown: "Please ask the staff or watch the hall notices for the opening time.",
		q_today: "today at {t}",
		q_tomorrow: "tomorrow at {t}",
		q_date: "{w} {d}/{m} at {t}",
		q_docs: "For this service, please have ready:",
		q_no_docs: "No documents are needed for this service.",
		q_lane: "Please choose how to queue",
		q_lane_normal: "Normal queue",
		q_lane_priority: "Priority lane",
		q_lane_who: "For: the elderly, people with disabilities, pregnant women, service members and veterans",
		q_take: "Print my ticket",
		q_printing: "Printing…",
		q_printing_help: "Please wait while your ticket prints.",
		q_your_number: "Your number",
		q_ahead: "{n} ahead of you",
		q_ahead_none: "Nobody is ahead of you; watch for your call",
		q_take_slip: "Please take your ticket and watch the hall screen and announcements.",
		q_on_screen: "Please write down or photograph your number and watch the hall screen and announcements.",
		q_priority_mark: "Priority lane",
		q_done: "Done",
		q_returning: "Back to home in {n} s",
		q_show_screen: "Show my number on screen",
		q_retry: "Try again",
		q_failed: "No ticket was issued. Please try again or ask the staff.",
		q_no_service: "The appliance service is not responding. Please ask the staff.",
		q_tab_window: "Window",
		q_tab_config: "Queue settings",
		q_tab_stats: "Queue figures",
		q_window: "Window",
		q_choose_window: "Choose your window",
		q_win_no: "Window {n}",
		q_state_open: "open",
		q_state_paused: "paused",
		q_state_closed: "closed",
		q_open: "Open",
		q_pause: "Pause",
		q_close: "Close",
		q_call_next: "Call next",
		q_recall: "Recall",
		q_recalled: "Recalled {n} times",
		q_recall_max: "Recalled {n}/{max} times",
		q_no_show: "No-show",
		q_start: "Start",
		q_finish: "Finish",
		q_hold: "Hold",
		q_resume: "Resume",
		q_transfer: "Transfer",
		q_reprint: "Reprint ticket",
		q_current: "Current number",
		q_none: "No current number. Press “Call next”.",
		q_tstate_waiting: "waiting",
		q_tstate_called: "called, waiting for the citizen",
		q_tstate_serving: "being served",
		q_tstate_held: "on hold",
		q_tstate_done: "finished",
		q_tstate_no_show: "no-show",
		q_held: "Tickets on hold",
		q_no_held: "No tickets on hold.",
		q_waiting_counts: "Waiting for this window's services",
		q_queue_empty: "Nobody is waiting.",
		q_announce: "Number {num}, please go to window {win}",
		q_transfer_title: "Transfer {num} to:",
		q_to_service: "another service",
		q_to_window: "another window",
		q_note: "Note (why it is transferred)",
		q_saved: "Saved.",
		q_reprinted: "{num} reprinted.",
		q_refresh: "Refresh",
		q_cfg_services: "Services",
		q_cfg_windows: "Windows",
		q_cfg_hours: "Opening hours",
		q_cfg_general: "Other settings",
		q_cfg_add_service: "Add service",
		q_cfg_add_window: "Add window",
		q_cfg_remove: "Remove",
		q_cfg_open_day: "Open",
		q_cfg_from: "From",
		q_cfg_to: "To",
		q_cfg_hours_help: "Times as HH:MM; 24:00 means until midnight.",
		q_cfg_save: "Save settings",
		q_cfg_reload: "Discard changes",
		q_cfg_list_help: "one per line",
		q_cfg_ids_help: "comma-separated, in order of preference",
		q_stats_day: "Day",
		q_stats_show: "Show",
		q_stats_wait: "Waiting time per service (ticket to call)",
		q_stats_service: "Service time per window (start to finish)",
		q_secs: "{n} s",
		q_mins: "{n} min",
		q_stats_noshow: "No-show rate per service",
		q_stats_median: "median",
		q_stats_p90: "90th percentile",
		q_stats_count: "{n} people",
		q_stats_empty: "No figures for this day yet.",
	});

	/* Labels of the settings' fields; a key not listed is shown as it is. */
	const FIELD_LABELS = {
		zh: {
			id: "编号", no: "窗口号", name_zh: "中文名称", name_en: "英文名称", prefix: "号码字母",
			num_min: "起始号", num_max: "最大号（之后从起始号重新开始）",
			priority_lane: "提供绿色通道", documents_zh: "所需材料（中文）",
			documents_en: "所需材料（英文，与中文逐行对应）", services: "办理业务（号码字母）",
			recall_max: "最多重呼次数", priority_run: "绿色通道连续叫号上限（之后先叫更早的普通号）",
			rollover: "每日换日时间（HH:MM）", keep_overnight: "未办号码留到次日",
			paused: "暂停全部取号",
		},
		en: {
			id: "ID", no: "Window no.", name_zh: "Name (Chinese)", name_en: "Name (English)",
			prefix: "Prefix letter", num_min: "First number",
			num_max: "Last number (then from the first again)",
			priority_lane: "Offers the priority lane", documents_zh: "Documents (Chinese)",
			documents_en: "Documents (English, line by line as the Chinese)",
			services: "Services (prefix letters)", recall_max: "Recalls at most",
			priority_run: "Priority calls in a row at most (then an older regular ticket)",
			rollover: "Day rollover at (HH:MM)", keep_overnight: "Keep unserved tickets overnight",
			paused: "Pause all ticket issuing",
		},
	};

	const RETURN_MS = 20000; /* the ticket screen goes home on its own after this */
	const LIST_REFRESH_MS = 15000;
	const WINDOW_REFRESH_MS = 5000;
	const STORE_WINDOW = "kiosk.queue.window";

	const t = shell.t;

	const $ = staff.$;

	const fmt = staff.fmt;
	const pad = shell.pad;
	const publicApi = shell.publicApi;

	/* A name from data in the current language, the other one when missing. */
	function nameOf(o) {
		if (!o) {
			return "";
		}
		const zh = o.name_zh || o.service_zh || "";
		const en = o.name_en || o.service_en || "";
		return (shell.lang() === "zh" ? zh || en : en || zh) || "";
	}

	/* The DOM builder staff.js lends (loaded before this script). */
	const h = staff.h;

	/* The words of an error answer: the server's own in the current language. */
	function serverWords(e) {
		return shell.errorWords(e, "q_no_service", "q_failed");
	}

	/* "today at 08:30", "tomorrow at 08:30" or the date, in local time. */
	function openingTime(ms) {
		const d = new Date(ms);
		const hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
		const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
		const diff = Math.round((day(d) - day(new Date())) / 86400000);
		if (diff === 0) {
			return fmt("q_today", { t: hm });
		}
		if (diff === 1) {
			return fmt("q_tomorrow", { t: hm });
		}
		return fmt("q_date", { m: d.getMonth() + 1, d: d.getDate(),
			w: t("weekdays")[d.getDay()], t: hm });
	}

	/* ================= citizen: take a ticket ================= */

	const cz = {
		view: "list", /* list, closed, confirm, printing, ticket, error */
		data: null, /* last GET /api/v1/queue/services */
		service: null,
		priority: false,
		ticket: null,
		onScreen: false,
		error: null,
		large: false,
		refresh: 0,
		back: 0,
		backAt: 0,
		busy: false,
	};

	function buildCitizen() {
		return h("section", { id: "queue", class: "c-screen", hidden: true },
			h("div", { class: "c-bar" },
				h("h2", { i18n: "q_title" }),
				h("button", { id: "q-large", type: "button", class: "c-tool",
					"aria-pressed": "false", on: { click: toggleLarge } }),
				h("button", { id: "q-home", type: "button", class: "c-tool", i18n: "q_back",
					on: { click: () => shell.showHome() } })),
			h("div", { id: "q-body", class: "q-body" }));
	}

	function toggleLarge() {
		cz.large = !cz.large;
		renderCitizen();
	}

	function openCitizen() {
		for (const s of document.querySelectorAll("main > section")) {
			s.hidden = s.id !== "queue";
		}
		cz.large = false;
		showList();
	}

	function citizenShown() {
		const s = $("queue");
		return s !== null && !s.hidden;
	}

	function stopCitizen() {
		clearInterval(cz.refresh);
		clearInterval(cz.back);
		cz.refresh = 0;
		cz.back = 0;
	}

	/* The shell went home (a button, the idle rule or staff login): stop. */
	function closeCitizen() {
		stopCitizen();
		const s = $("queue");
		if (s) {
			s.hidden = true;
		}
		cz.ticket = null;
		cz.error = null;
		cz.large = false;
	}

	async function loadServices() {
		try {
			cz.data = await publicApi("GET", "/api/v1/queue/services");
			cz.error = null;
		} catch (e) {
			cz.data = null;
			cz.error = e;
		}
	}

	async function showList() {
		stopCitizen();
		cz.view = "list";
		cz.service = null;
		cz.priority = false;
		cz.ticket = null;
		await loadServices();
		if (!citizenShown()) {
			return;
		}
		renderCitizen();
		cz.refresh = setInterval(async () => {
			if (!citizenShown() || (cz.view !== "list" && cz.view !== "closed")) {
				return;
			}
			await loadServices();
			if (citizenShown() && (cz.view === "list" || cz.view === "closed")) {
				renderCitizen();
			}
		}, LIST_REFRESH_MS);
	}

	function chooseService(s) {
		cz.service = s;
		cz.priority = false;
		cz.view = "confirm";
		renderCitizen();
	}

	/* Issue a ticket: printed (paper) or, when the printer is down, on screen. */
	async function issue(onScreen) {
		if (cz.busy || !cz.service) {
			return;
		}
		cz.busy = true;
		cz.view = "printing";
		cz.onScreen = onScreen;
		renderCitizen();
		const path = onScreen ? "/api/v1/queue/tickets/show-on-screen" : "/api/v1/queue/tickets";
		try {
			const r = await publicApi("POST", path,
				{ service_id: cz.service.id, priority: cz.priority });
			cz.ticket = r.ticket;
			cz.view = "ticket";
			startReturn();
		} catch (e) {
			cz.error = e;
			cz.view = "error";
		} finally {
			cz.busy = false;
		}
		if (citizenShown()) {
			renderCitizen();
		}
	}

	function startReturn() {
		clearInterval(cz.back);
		cz.backAt = Date.now() + RETURN_MS;
		cz.back = setInterval(() => {
			if (!citizenShown()) {
				clearInterval(cz.back);
				return;
			}
			if (Date.now() >= cz.backAt) {
				shell.resetHome();
				return;
			}
			const el = $("q-returning");
			if (el) {
				el.textContent = fmt("q_returning", { n: Math.ceil((cz.backAt - Date.now()) / 1000) });
			}
		}, 500);
	}

	function bigButton(props, title, sub) {
		return h("button", Object.assign({ type: "button" }, props),
			h("span", { class: "q-btn-title", text: title }),
			sub ? h("span", { class: "q-btn-sub", text: sub }) : null);
	}

	function listView() {
		const d = cz.data;
		if (!d) {
			return [h("p", { class: "q-msg", "data-kind": "error", text: serverWords(cz.error || {}) }),
				h("button", { type: "button", class: "c-main", i18n: "q_retry", on: { click: showList } })];
		}
		if (!d.open || d.paused) {
			cz.view = "closed";
			return closedView();
		}
		const services = Array.isArray(d.services) ? d.services : [];
		if (services.length === 0) {
			return [h("p", { class: "q-msg", i18n: "q_no_services" })];
		}
		return [h("p", { class: "q-lead", i18n: "q_choose" }),
			h("div", { class: "q-services" }, ...services.map((s) => {
				const est = Number(s.est_wait_min) || 0;
				return bigButton({ class: "q-service", "data-service": String(s.id),
					on: { click: () => chooseService(s) } }, nameOf(s),
				fmt("q_waiting", { n: Number(s.waiting) || 0 }) + " · " +
					(est > 0 ? fmt("q_est", { n: est }) : t("q_est_none")));
			}))];
	}

	function closedView() {
		const d = cz.data || {};
		const paused = !!d.paused && d.open !== false;
		const next = typeof d.next_open_ms === "number" && d.next_open_ms > 0 ?
			fmt("q_next_open", { t: openingTime(d.next_open_ms) }) : t("q_next_unknown");
		return [h("div", { id: "q-closed", class: "c-card q-closed",
			"data-state": paused ? "paused" : "closed" },
		h("h3", { i18n: paused ? "q_paused_title" : "q_closed_title" }),
		h("p", { i18n: paused ? "q_paused_msg" : "q_closed_msg" }),
		h("p", { class: "q-next", text: next }))];
	}

	function confirmView() {
		const s = cz.service;
		const docs = (shell.lang() === "zh" ? s.documents_zh : s.documents_en) ||
			s.documents_zh || [];
		const parts = [h("h3", { class: "q-chosen", text: nameOf(s) }),
			h("div", { class: "c-card q-docs" },
				h("p", { i18n: docs.length ? "q_docs" : "q_no_docs" }),
				docs.length ? h("ul", {}, ...docs.map((x) => h("li", { text: x }))) : null)];
		if (s.priority_lane) {
			const lane = (prio, key, sub) => bigButton({
				class: "q-lane" + (cz.priority === prio ? " is-on" : ""),
				"data-lane": prio ? "priority" : "normal",
				"aria-pressed": cz.priority === prio ? "true" : "false",
				on: { click: () => {
					cz.priority = prio;
					renderCitizen();
				} },
			}, t(key), sub ? t(sub) : null);
			parts.push(h("p", { class: "q-lead", i18n: "q_lane" }),
				h("div", { class: "q-lanes" },
					lane(false, "q_lane_normal", null),
					lane(true, "q_lane_priority", "q_lane_who")));
		}
		parts.push(h("div", { class: "q-row" },
			h("button", { id: "q-take", type: "button", class: "c-main", i18n: "q_take",
				on: { click: () => issue(false) } }),
			h("button", { type: "button", class: "c-second", i18n: "q_prev",
				on: { click: showList } })));
		return parts;
	}

	function ticketView() {
		const k = cz.ticket || {};
		const ahead = Number(k.ahead) || 0;
		clearInterval(cz.refresh);
		return [h("div", { id: "q-ticket", class: "c-card q-ticket",
			"data-on-screen": cz.onScreen ? "true" : "false" },
		h("p", { class: "q-ticket-service", text: nameOf(k) }),
		h("p", { class: "q-ticket-label", i18n: "q_your_number" }),
		h("p", { id: "q-number", class: "q-number", text: k.number || "" }),
		cz.priority ? h("p", { class: "q-prio-mark", i18n: "q_priority_mark" }) : null,
		h("p", { id: "q-ahead", class: "q-ahead",
			text: ahead > 0 ? fmt("q_ahead", { n: ahead }) : t("q_ahead_none") }),
		h("p", { class: "q-help", i18n: cz.onScreen ? "q_on_screen" : "q_take_slip" })),
		h("div", { class: "q-row" },
			h("button", { id: "q-done", type: "button", class: "c-main", i18n: "q_done",
				on: { click: () => shell.resetHome() } }),
			h("span", { id: "q-returning", class: "q-returning",
				text: fmt("q_returning", { n: Math.ceil((cz.backAt - Date.now()) / 1000) }) }))];
	}

	function errorView() {
		const e = cz.error || {};
		const printer = /^printer_/.test(e.code || "");
		return [h("div", { id: "q-error", class: "c-card q-error", "data-code": e.code || "" },
			h("p", { id: "q-error-msg", class: "q-msg", "data-kind": "error", text: serverWords(e) })),
		h("div", { class: "q-row" },
			printer ? h("button", { id: "q-show", type: "button", class: "c-main",
				on: { click: () => issue(true) } },
			h("span", { text: t("q_show_screen") }),
			shell.lang() === "zh" ? h("span", { class: "q-btn-sub", lang: "en",
				text: shell.strings.en.q_show_screen }) : null) : null,
			h("button", { id: "q-retry", type: "button", class: printer ? "c-second" : "c-main",
				on: { click: () => (printer ? issue(false) : showList()) } },
			h("span", { text: t("q_retry") }),
			shell.lang() === "zh" ? h("span", { class: "q-btn-sub", lang: "en",
				text: shell.strings.en.q_retry }) : null))];
	}

	function renderCitizen() {
		const sec = $("queue");
		if (!sec) {
			return;
		}
		sec.classList.toggle("q-large-text", cz.large);
		const lb = $("q-large");
		lb.textContent = t(cz.large ? "q_normal_text" : "q_large");
		lb.setAttribute("aria-pressed", cz.large ? "true" : "false");
		let parts;
		if (cz.view === "list" || cz.view === "closed") {
			cz.view = "list";
			parts = listView();
		} else if (cz.view === "confirm") {
			parts = confirmView();
		} else if (cz.view === "printing") {
			parts = [h("div", { id: "q-printing", class: "c-card q-printing" },
				h("p", { class: "q-printing-title", i18n: "q_printing" }),
				h("p", { i18n: "q_printing_help" }))];
		} else if (cz.view === "ticket") {
			parts = ticketView();
		} else {
			parts = errorView();
		}
		sec.dataset.view = cz.view;
		$("q-body").replaceChildren(...parts);
	}

	/* ================= staff: the window screen ================= */

	const win = {
		no: null, /* chosen window number */
		windows: [], /* from the snapshot */
		state: null, /* GET /api/v1/queue/windows/<no> */
		timer: 0,
		msg: null, /* {key, vars} | {zh, en} */
		kind: "text",
		announce: null, /* {num, win} of the last call made here */
		busy: false,
	};

	function buildWindow() {
		return h("div", { id: "sh-queue", class: "sh-section q-staff", hidden: true },
			h("div", { class: "q-srow" },
				h("label", { class: "s-field q-wsel" }, h("span", { i18n: "q_choose_window" }),
					h("select", { id: "qw-select", class: "s-input",
						on: { change: (e) => chooseWindow(e.target.value) } })),
				h("span", { id: "qw-state", class: "q-wstate" }),
				h("button", { type: "button", class: "s-secondary", "data-act": "open", i18n: "q_open",
					on: { click: () => winAction("open") } }),
				h("button", { type: "button", class: "s-secondary", "data-act": "pause",
					i18n: "q_pause", on: { click: () => winAction("pause") } }),
				h("button", { type: "button", class: "s-secondary", "data-act": "close",
					i18n: "q_close", on: { click: () => winAction("close") } })),
			h("p", { id: "qw-msg", class: "s-msg", role: "status", hidden: true }),
			h("div", { class: "q-wmain" },
				h("div", { class: "s-card q-current" },
					h("p", { class: "q-current-label", i18n: "q_current" }),
					h("p", { id: "qw-number", class: "q-current-number" }),
					h("p", { id: "qw-detail", class: "q-current-detail" }),
					h("p", { id: "qw-announce", class: "q-announce", hidden: true })),
				h("div", { class: "q-wactions" },
					h("button", { id: "qw-call", type: "button", class: "s-primary q-call",
						"data-act": "call-next", i18n: "q_call_next",
						on: { click: () => winAction("call-next") } }),
					...[["recall", "q_recall"], ["no-show", "q_no_show"], ["start", "q_start"],
						["finish", "q_finish"], ["hold", "q_hold"]].map(([a, key]) =>
						h("button", { type: "button", class: "s-secondary", "data-act": a, i18n: key,
							on: { click: () => winAction(a) } })),
					h("button", { type: "button", class: "s-secondary", "data-act": "transfer",
						i18n: "q_transfer", on: { click: transfer } }),
					h("button", { type: "button", class: "s-secondary", "data-act": "reprint",
						i18n: "q_reprint", on: { click: () => reprint() } }))),
			h("div", { class: "q-wside" },
				h("div", { class: "s-card" }, h("h3", { i18n: "q_waiting_counts" }),
					h("ul", { id: "qw-waiting", class: "q-wlist" })),
				h("div", { class: "s-card" }, h("h3", { i18n: "q_held" }),
					h("ul", { id: "qw-held", class: "q-wlist" }))));
	}

	function winSay(m, kind) {
		win.msg = m;
		win.kind = kind || "error";
		staff.say($("qw-msg"), m, win.kind);
	}

	async function openWindowTab() {
		winSay(null);
		win.announce = null;
		try {
			const snap = await staff.api("GET", "/api/v1/queue/snapshot");
			win.windows = Array.isArray(snap.windows) ? snap.windows : [];
		} catch (e) {
			if (e.status !== 401) {
				winSay(staff.errMsg(e));
			}
			return;
		}
		let keep = null;
		try {
			keep = window.localStorage.getItem(STORE_WINDOW);
		} catch (e) {
			keep = null;
		}
		const known = (n) => win.windows.some((w) => String(w.no) === String(n));
		win.no = known(win.no) ? win.no : known(keep) ? Number(keep) : null;
		renderWindow();
		await loadWindow();
		clearInterval(win.timer);
		win.timer = setInterval(() => {
			if (!$("sh-queue").hidden && staff.user()) {
				loadWindow();
			}
		}, WINDOW_REFRESH_MS);
	}

	function closeWindowTab() {
		clearInterval(win.timer);
		win.timer = 0;
	}

	function chooseWindow(v) {
		win.no = v === "" ? null : Number(v);
		win.state = null;
		win.announce = null;
		winSay(null);
		try {
			window.localStorage.setItem(STORE_WINDOW, v);
		} catch (e) {
			/* remembering the window is a convenience */
		}
		renderWindow();
		loadWindow();
	}

	async function loadWindow() {
		if (win.no === null) {
			return;
		}
		try {
			win.state = await staff.api("GET", "/api/v1/queue/windows/" + win.no);
		} catch (e) {
			if (e.status !== 401) {
				winSay(staff.errMsg(e));
			}
			return;
		}
		renderWindow();
	}

	/* The window's current ticket, or null. */
	function current() {
		const c = win.state ? win.state.current : null;
		return c && c.number ? c : null;
	}

	async function winAction(what, body) {
		if (win.no === null || win.busy) {
			return;
		}
		win.busy = true;
		const cur = current();
		try {
			const r = await staff.api("POST", "/api/v1/queue/windows/" + win.no + "/" + what,
				body || {});
			winSay(null);
			if ((what === "call-next" || what === "recall") && r && r.ticket) {
				win.announce = { num: r.ticket.number, win: win.no };
			} else if (what === "recall" && cur) {
				win.announce = { num: cur.number, win: win.no };
			} else if (what !== "start") {
				win.announce = null;
			}
		} catch (e) {
			if (e.status === 401) {
				return;
			}
			winSay(e.code === "queue_empty" ? { key: "q_queue_empty" } : staff.errMsg(e),
				e.code === "queue_empty" ? "text" : "error");
		} finally {
			win.busy = false;
		}
		await loadWindow();
	}

	async function reprint(number) {
		const cur = current();
		const num = number || (cur ? cur.number : null);
		if (!num) {
			return;
		}
		try {
			await staff.api("POST", "/api/v1/queue/tickets/" + encodeURIComponent(num) + "/reprint", {});
			winSay({ key: "q_reprinted", vars: { num } }, "ok");
		} catch (e) {
			if (e.status !== 401) {
				winSay(staff.errMsg(e));
			}
		}
	}

	async function resume(number) {
		await winAction("resume", { number });
	}

	async function transfer() {
		const cur = current();
		if (!cur) {
			return;
		}
		let services = [];
		try {
			const d = await staff.api("GET", "/api/v1/queue/services");
			services = Array.isArray(d.services) ? d.services : [];
		} catch (e) {
			if (e.status !== 401) {
				winSay(staff.errMsg(e));
			}
			return;
		}
		const kind = h("select", { id: "qt-kind", class: "s-input" },
			h("option", { value: "service", i18n: "q_to_service" }),
			h("option", { value: "window", i18n: "q_to_window" }));
		const svc = h("select", { id: "qt-service", class: "s-input" },
			...services.map((s) => h("option", { value: String(s.id), text: nameOf(s) })));
		const wnd = h("select", { id: "qt-window", class: "s-input", hidden: true },
			...win.windows.filter((w) => String(w.no) !== String(win.no)).map((w) =>
				h("option", { value: String(w.no), text: windowLabel(w) })));
		kind.addEventListener("change", () => {
			svc.hidden = kind.value !== "service";
			wnd.hidden = kind.value !== "window";
		});
		const note = h("textarea", { id: "qt-note", class: "s-input q-note", maxlength: "200",
			rows: "2" });
		staff.dialog({
			text: { key: "q_transfer_title", vars: { num: cur.number } },
			body: h("div", { class: "q-transfer" }, kind, svc, wnd, staff.field("q_note", note)),
			confirmKey: "q_transfer",
			run: async () => {
				const body = { note: note.value.trim() };
				if (kind.value === "service") {
					body.to_service_id = Number(svc.value);
				} else {
					body.to_window_no = Number(wnd.value);
				}
				await staff.api("POST", "/api/v1/queue/windows/" + win.no + "/transfer", body);
				win.announce = null;
				winSay(null);
				await loadWindow();
			},
		});
	}

	/* "3 号窗口 · 综合" or just the name when it already says the number. */
	function windowLabel(w) {
		const name = nameOf(w);
		if (name === "") {
			return fmt("q_win_no", { n: w.no });
		}
		return name.includes(String(w.no)) ? name : fmt("q_win_no", { n: w.no }) + " · " + name;
	}

	function stateWord(s) {
		const v = shell.strings[shell.lang()]["q_state_" + s];
		return v !== undefined ? v : String(s || "");
	}

	function renderWindow() {
		const sel = $("qw-select");
		if (!sel) {
			return;
		}
		sel.replaceChildren(h("option", { value: "", i18n: "q_choose_window" }),
			...win.windows.map((w) => h("option", { value: String(w.no), text: windowLabel(w) })));
		sel.value = win.no === null ? "" : String(win.no);
		if (win.msg) {
			staff.say($("qw-msg"), win.msg, win.kind);
		}
		const state = win.state ? win.state.state || "" : "";
		const stateEl = $("qw-state");
		stateEl.dataset.state = state;
		stateEl.textContent = state ? stateWord(state) : "";
		const cur = win.state ? current() : null;
		const tstate = cur ? cur.state || "" : "";
		const on = {
			"open": win.state && state !== "open",
			"pause": win.state && state === "open",
			"close": win.state && state !== "closed",
			"call-next": win.state && state === "open" && !cur,
			"recall": tstate === "called",
			"no-show": tstate === "called",
			"start": tstate === "called",
			"finish": tstate === "serving",
			"hold": tstate === "called" || tstate === "serving",
			"transfer": tstate === "called" || tstate === "serving",
			"reprint": !!cur,
		};
		for (const b of document.querySelectorAll("#sh-queue [data-act]")) {
			b.disabled = !on[b.dataset.act];
		}
		$("qw-number").textContent = cur ? cur.number : "—";
		const detail = [];
		if (cur) {
			detail.push(nameOf(cur));
			const ts = shell.strings[shell.lang()]["q_tstate_" + tstate];
			if (ts) {
				detail.push(ts);
			}
			const n = Number(cur.recall_count) || 0;
			const max = Number(win.state.recall_max) || 0;
			if (n > 0 || tstate === "called") {
				detail.push(max > 0 ? fmt("q_recall_max", { n, max }) : fmt("q_recalled", { n }));
			}
			if (cur.priority) {
				detail.push(t("q_priority_mark"));
			}
			if (cur.note) {
				detail.push("“" + cur.note + "”");
			}
		}
		$("qw-detail").textContent = cur ? detail.filter(Boolean).join(" · ") : t("q_none");
		const ann = $("qw-announce");
		ann.hidden = !win.announce;
		ann.textContent = win.announce ? fmt("q_announce", win.announce) : "";
		const services = win.state && Array.isArray(win.state.services) ? win.state.services : [];
		$("qw-waiting").replaceChildren(...services.map((s) =>
			h("li", { "data-service": String(s.id) },
				h("span", { text: nameOf(s) + (s.prefix ? " (" + s.prefix + ")" : "") }),
				h("strong", { text: fmt("q_waiting", { n: Number(s.waiting) || 0 }) }))));
		const held = win.state && Array.isArray(win.state.held) ? win.state.held : [];
		$("qw-held").replaceChildren(...(held.length === 0 ?
			[h("li", { class: "q-empty", i18n: "q_no_held" })] :
			held.map((k) => h("li", { "data-number": k.number },
				h("span", { text: k.number + (nameOf(k) ? " · " + nameOf(k) : "") }),
				h("button", { type: "button", class: "s-small", i18n: "q_resume",
					disabled: win.state ? undefined : true,
					on: { click: () => resume(k.number) } })))));
	}

	/* ================= supervisor: settings ================= */

	const cfg = { data: null };

	function buildConfig() {
		return h("div", { id: "sh-queue-config", class: "sh-section q-config", hidden: true },
			h("p", { id: "qc-msg", class: "s-msg", role: "status", hidden: true }),
			h("form", { id: "qc-form", novalidate: true, on: { submit: (e) => {
				e.preventDefault();
				saveConfig();
			} } }),
			h("div", { class: "s-row" },
				h("button", { id: "qc-save", type: "submit", form: "qc-form", class: "s-primary",
					i18n: "q_cfg_save" }),
				h("button", { type: "button", class: "s-secondary", i18n: "q_cfg_reload",
					on: { click: loadConfig } })));
	}

	function label(key) {
		const v = FIELD_LABELS[shell.lang()][key];
		return v !== undefined ? v : key;
	}

	/*
	 * One editor for whatever the config holds: strings, numbers and
	 * booleans as inputs, lists of strings one per line, lists of numbers
	 * comma-separated, objects as nested groups. The object is edited in
	 * place, so keys the form does not know go back to the server unchanged.
	 */
	function editor(obj, key) {
		const v = obj[key];
		const set = (x) => {
			obj[key] = x;
		};
		const lab = (input, help) => h("label", { class: "s-field q-cfield", "data-key": key },
			h("span", { text: label(key) + (help ? "（" + t(help) + "）" : "") }), input);
		if (typeof v === "boolean") {
			return h("label", { class: "q-check", "data-key": key },
				h("input", { type: "checkbox", checked: v,
					on: { change: (e) => set(e.target.checked) } }),
				h("span", { text: label(key) }));
		}
		if (typeof v === "number") {
			return lab(h("input", { type: "number", class: "s-input", value: String(v),
				on: { input: (e) => set(e.target.value === "" ? 0 : Number(e.target.value)) } }));
		}
		if (typeof v === "string") {
			return lab(h("input", { type: "text", class: "s-input", value: v,
				maxlength: key === "prefix" ? "1" : "200",
				on: { input: (e) => set(e.target.value) } }));
		}
		if (key === "services" && Array.isArray(v)) {
			return lab(h("input", { type: "text", class: "s-input", value: v.join(", "),
				autocapitalize: "characters", on: { input: (e) => set(e.target.value.toUpperCase()
					.split(/[,，\s]+/).filter(Boolean)) } }), "q_cfg_ids_help");
		}
		if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
			return lab(h("input", { type: "text", class: "s-input", value: v.join(", "),
				on: { input: (e) => set(e.target.value.split(/[,，\s]+/).filter(Boolean)
					.map(Number).filter((n) => Number.isFinite(n))) } }), "q_cfg_ids_help");
		}
		if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
			const ta = h("textarea", { class: "s-input q-lines", rows: "3",
				on: { input: (e) => set(e.target.value.split("\n").map((x) => x.trim())
					.filter(Boolean)) } });
			ta.value = v.join("\n");
			return lab(ta, "q_cfg_list_help");
		}
		if (Array.isArray(v)) {
			return h("fieldset", { class: "q-group", "data-key": key },
				h("legend", { text: label(key) }),
				...v.map((item, i) => item && typeof item === "object" ?
					h("div", { class: "q-subgroup" }, ...Object.keys(item).map((k) => editor(item, k))) :
					editor(v, i)));
		}
		if (v && typeof v === "object") {
			return h("fieldset", { class: "q-group", "data-key": key },
				h("legend", { text: label(key) }),
				...Object.keys(v).map((k) => editor(v, k)));
		}
		return null;
	}

	/*
	 * Opening hours: {"mon": {"open": "09:00", "close": "17:00"} | null, ...}
	 * as a row per day, Monday first: open or not, from, to (24:00 = midnight).
	 */
	function hoursEditor(hours) {
		const days = [["mon", 1], ["tue", 2], ["wed", 3], ["thu", 4], ["fri", 5], ["sat", 6],
			["sun", 0]];
		const time = (day, which) => h("input", { type: "text", class: "s-input q-time",
			inputmode: "numeric", maxlength: "5", placeholder: "09:00", "data-time": which,
			value: hours[day] ? hours[day][which] || "" : "", disabled: hours[day] ? undefined : true,
			"aria-label": t(which === "open" ? "q_cfg_from" : "q_cfg_to"),
			on: { input: (e) => {
				if (hours[day]) {
					hours[day][which] = e.target.value.trim();
				}
			} } });
		return h("fieldset", { class: "q-group q-hours", "data-key": "hours" },
			h("legend", { i18n: "q_cfg_hours" }),
			h("table", { class: "s-table" },
				h("thead", {}, h("tr", {}, h("th", {}), h("th", { i18n: "q_cfg_open_day" }),
					h("th", { i18n: "q_cfg_from" }), h("th", { i18n: "q_cfg_to" }))),
				h("tbody", {}, ...days.map(([day, wd]) => h("tr", { "data-day": day },
					h("th", { text: t("weekdays")[wd] }),
					h("td", {}, h("input", { type: "checkbox", class: "q-day-open",
						checked: !!hours[day], on: { change: (e) => {
							hours[day] = e.target.checked ? { open: "09:00", close: "17:00" } : null;
							renderConfig();
						} } })),
					h("td", {}, time(day, "open")),
					h("td", {}, time(day, "close")))))),
			h("p", { class: "q-help", i18n: "q_cfg_hours_help" }));
	}

	/* An empty record shaped like the list's first one (for "add"). */
	function blankLike(o) {
		const out = {};
		for (const [k, v] of Object.entries(o || {})) {
			out[k] = typeof v === "boolean" ? false : typeof v === "number" ? 0 :
				typeof v === "string" ? "" : Array.isArray(v) ? [] :
					v && typeof v === "object" ? blankLike(v) : v;
		}
		return out;
	}

	function recordList(listKey, titleKey, addKey) {
		const list = cfg.data[listKey];
		return h("fieldset", { class: "q-group q-records", "data-list": listKey },
			h("legend", { i18n: titleKey }),
			...list.map((rec, i) => h("div", { class: "s-card q-record" },
				h("h4", { text: (listKey === "windows" ? fmt("q_win_no", { n: rec.no }) :
					(rec.prefix ? rec.prefix + " · " : "")) + (nameOf(rec) || "") }),
				h("div", { class: "q-fields" },
					...Object.keys(rec).filter((k) => k !== "id").map((k) => editor(rec, k))),
				h("button", { type: "button", class: "s-small", i18n: "q_cfg_remove",
					on: { click: () => {
						list.splice(i, 1);
						renderConfig();
					} } }))),
			h("button", { type: "button", class: "s-secondary", i18n: addKey,
				"data-add": listKey, on: { click: () => {
					const rec = blankLike(list[0]);
					delete rec.id;
					if (listKey === "windows") {
						rec.no = list.reduce((m, w) => Math.max(m, Number(w.no) || 0), 0) + 1;
					}
					list.push(rec);
					renderConfig();
				} } }));
	}

	function renderConfig() {
		const form = $("qc-form");
		if (!form || !cfg.data) {
			return;
		}
		const d = cfg.data;
		const parts = [];
		if (Array.isArray(d.services)) {
			parts.push(recordList("services", "q_cfg_services", "q_cfg_add_service"));
		}
		if (Array.isArray(d.windows)) {
			parts.push(recordList("windows", "q_cfg_windows", "q_cfg_add_window"));
		}
		if (d.hours && typeof d.hours === "object") {
			parts.push(hoursEditor(d.hours));
		}
		const rest = Object.keys(d).filter((k) => !["services", "windows", "hours"].includes(k));
		if (rest.length) {
			parts.push(h("fieldset", { class: "q-group" }, h("legend", { i18n: "q_cfg_general" }),
				...rest.map((k) => editor(d, k))));
		}
		form.replaceChildren(...parts);
	}

	async function loadConfig() {
		staff.say($("qc-msg"), null);
		try {
			cfg.data = await staff.api("GET", "/api/v1/queue/config");
			renderConfig();
		} catch (e) {
			if (e.status !== 401) {
				staff.say($("qc-msg"), staff.errMsg(e));
			}
		}
	}

	async function saveConfig() {
		const btn = $("qc-save");
		btn.disabled = true;
		try {
			const r = await staff.api("PUT", "/api/v1/queue/config", cfg.data);
			if (r && typeof r === "object" && Array.isArray(r.services)) {
				cfg.data = r;
			}
			renderConfig();
			staff.say($("qc-msg"), { key: "q_saved" }, "ok");
		} catch (e) {
			if (e.status !== 401) {
				staff.say($("qc-msg"), staff.errMsg(e));
			}
		} finally {
			btn.disabled = false;
		}
	}

	/* ================= supervisor: figures ================= */

	const st = { data: null };

	function today() {
		const d = new Date();
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
	}

	function buildStats() {
		return h("div", { id: "sh-queue-stats", class: "sh-section q-stats", hidden: true },
			h("form", { id: "qs-form", class: "q-srow", novalidate: true, on: { submit: (e) => {
				e.preventDefault();
				loadStats();
			} } },
			staff.field("q_stats_day", h("input", { id: "qs-day", type: "date", class: "s-input" })),
			h("button", { type: "submit", class: "s-primary", i18n: "q_stats_show" })),
			h("p", { id: "qs-msg", class: "s-msg", role: "status", hidden: true }),
			h("div", { id: "qs-charts", class: "q-charts" }));
	}

	async function loadStats() {
		const day = $("qs-day").value || today();
		staff.say($("qs-msg"), null);
		try {
			st.data = await staff.api("GET", "/api/v1/queue/stats?day=" + encodeURIComponent(day));
			renderStats();
		} catch (e) {
			if (e.status !== 401) {
				staff.say($("qs-msg"), staff.errMsg(e));
			}
		}
	}

	/* The bar chart staff.js lends (also used by the work-order figures). */
	const barChart = staff.barChart;

	/* A figure as a number, or null for no data (the API sends -1). */
	function num(o, key) {
		return o && typeof o[key] === "number" && o[key] >= 0 ? o[key] : null;
	}

	/* Seconds as "45 秒" / "45 s" under a minute, else minutes with one decimal. */
	function duration(v) {
		return v < 60 ? fmt("q_secs", { n: Math.round(v) }) : fmt("q_mins", { n: (v / 60).toFixed(1) });
	}

	function renderStats() {
		const box = $("qs-charts");
		if (!box || !st.data) {
			return;
		}
		const services = Array.isArray(st.data.services) ? st.data.services : [];
		const windows = Array.isArray(st.data.windows) ? st.data.windows : [];
		if (services.length + windows.length === 0) {
			box.replaceChildren(h("p", { class: "s-msg", "data-kind": "text", i18n: "q_stats_empty" }));
			return;
		}
		const both = [{ key: "q_stats_median", cls: "q-median" }, { key: "q_stats_p90", cls: "q-p90" }];
		const withCount = (o, name) => name + " · " + fmt("q_stats_count", { n: num(o, "count") });
		box.replaceChildren(
			barChart("qs-wait", "q_stats_wait", services.map((s) => ({
				label: withCount(s, nameOf(s)),
				values: [num(s, "wait_median_s"), num(s, "wait_p90_s")],
			})), both, duration),
			barChart("qs-service", "q_stats_service", windows.map((w) => ({
				label: withCount(w, fmt("q_win_no", { n: w.window_no })),
				values: [num(w, "service_median_s"), num(w, "service_p90_s")],
			})), both, duration),
			barChart("qs-noshow", "q_stats_noshow", services.map((s) => ({
				label: nameOf(s),
				values: [num(s, "no_show_rate")],
			})), [{ key: "q_no_show", cls: "q-noshow" }], (v) => Math.round(v * 100) + "%"));
	}

	/* ================= wiring ================= */

	shell.onTile("ticket", openCitizen);
	shell.onHome(closeCitizen);
	shell.onRender(() => {
		if (citizenShown()) {
			renderCitizen();
		}
		renderWindow();
		renderConfig();
		renderStats();
	});

	if (staff) {
		staff.addTab({ tab: "queue", key: "q_tab_window", roles: ["staff", "supervisor"],
			build: buildWindow, open: openWindowTab, render: renderWindow, close: closeWindowTab });
		staff.addTab({ tab: "queue-config", key: "q_tab_config", roles: ["supervisor"],
			build: buildConfig, open: loadConfig, render: renderConfig });
		staff.addTab({ tab: "queue-stats", key: "q_tab_stats", roles: ["supervisor"],
			build: buildStats, open: () => {
				if (!$("qs-day").value) {
					$("qs-day").value = today();
				}
				loadStats();
			}, render: renderStats });
	}

	document.addEventListener("DOMContentLoaded", () => {
		document.querySelector("main").append(buildCitizen());
	});
})();
