/*
 * Walk-in requests on the kiosk (docs/requests.md): the citizen's screens
 * behind the home tiles 我要办事 (file a request), 进度查询 (look up a code)
 * and 服务评价 (rate a service), and the staff tab 来访诉求 (list, detail,
 * answer on the spot, forward to the city, file for a citizen at the
 * window, queue a citizen to the window handling their matter).
 *
 * The rules a reader needs: the kind of matter comes first, and a matter
 * the hotline does not accept is answered with where to go before a single
 * detail is asked; a request exists only once the server answered 201, and
 * when the receipt could not be printed the lookup code is shown large
 * instead; the citizen sees only masked forms of what they typed. Chinese
 * first, English through the shell's switch. Plain JS, no inline script or
 * style (CSP).
 */
"use strict";

(() => {
	const shell = window.kioskShell;
	const staff = window.kioskStaff;
	const t = shell.t;
	const h = staff.h;

	Object.assign(shell.strings.zh, {
		r_title_request: "我要办事",
		r_title_progress: "进度查询",
		r_title_rate: "服务评价",
		r_home: "返回首页",
		r_prev: "上一步",
		r_next: "下一步",
		r_kind_lead: "请先选择您要反映的事项类型",
		r_cat_consult: "咨询",
		r_cat_consult_sub: "政策、办事流程等问题",
		r_cat_help: "求助",
		r_cat_help_sub: "生活中遇到困难需要帮助",
		r_cat_complaint: "投诉",
		r_cat_complaint_sub: "对服务、管理不满意",
		r_cat_report: "举报",
		r_cat_report_sub: "反映违法违规行为",
		r_cat_suggestion: "意见建议",
		r_cat_suggestion_sub: "对工作提出意见和建议",
		r_not_lead: "以下事项不属于12345热线受理范围",
		r_emergency_lead: "紧急情况请直接拨打",
		r_refused_title: "12345热线不能受理此类事项",
		r_refused_where: "建议您：",
		r_refused_why: "此类事项：",
		r_choose_other: "选择其他事项",
		r_field: "诉求领域",
		r_field_economy: "经济调节",
		r_field_market: "市场监管",
		r_field_social: "社会管理",
		r_field_public_service: "公共服务",
		r_field_environment: "生态环境保护",
		r_content: "诉求内容（必填）",
		r_content_ph: "请说明事情经过、时间和您的诉求",
		r_location: "发生地点（选填）",
		r_name: "姓名（选填）",
		r_phone: "联系电话（选填，用于回复您）",
		r_hide: "对外隐藏我的身份",
		r_hide_sub: "办理部门看不到您的姓名和电话",
		r_consent: "您留下的姓名和电话仅用于办理和回访本诉求，加密保存，屏幕和回执只显示部分号码，事项办结后按规定期限删除。",
		r_need_field: "请选择诉求领域。",
		r_need_content: "请填写诉求内容。",
		r_bad_phone: "电话号码只能包含数字、空格和“-”，例如 13812345678。",
		r_confirm_lead: "请核对以下信息",
		r_submit: "确认提交",
		r_sending: "正在提交…",
		r_done_title: "您的诉求已受理",
		r_number: "受理编号",
		r_code: "查询码",
		r_code_help: "凭查询码可在本机“进度查询”查看办理进度。",
		r_printed: "回执已打印，请取走并妥善保管。",
		r_not_printed: "回执未能打印，请记下或拍下上面的查询码。",
		r_owner: "本受理点负责办理您的诉求，直至答复您或移交市12345热线（首接负责）。",
		r_repeat: "您近期反映过类似事项（{n}），我们会一并办理。",
		r_returning: "{n} 秒后返回首页",
		r_done: "完成",
		r_failed: "提交没有成功，请重试或咨询工作人员。",
		r_retry: "重试",
		r_no_service: "本机服务无响应，请咨询工作人员。",
		r_anonymous: "（匿名）",
		r_none: "未填写",
		r_enter_code: "请输入回执或号票上的 8 位查询码",
		r_enter_code_rate: "请输入回执或号票上的查询码，或今天的排队号（如 A012）",
		r_clear: "清除",
		r_del: "删除",
		r_search: "查询",
		r_state: "办理状态",
		r_timeline: "办理过程",
		r_rate_this: "评价本次服务",
		r_rated: "您已评价过，感谢您的反馈。",
		r_another: "查询其他",
		r_grade_lead: "您对本次服务满意吗？",
		r_grade_5: "非常满意",
		r_grade_4: "满意",
		r_grade_3: "基本满意",
		r_grade_2: "不满意",
		r_grade_1: "非常不满意",
		r_comment: "意见（选填，请勿填写个人信息）",
		r_rate_submit: "提交评价",
		r_thanks: "感谢您的评价！",
		r_need_grade: "请选择一项评价。",
		r_kind_request: "来访诉求",
		r_kind_order: "工单",
		r_kind_ticket: "排队号",
		/* staff */
		r_tab: "来访诉求",
		r_filter_state: "状态",
		r_all: "全部",
		r_st_open: "受理中",
		r_st_answered: "已当场答复",
		r_st_forwarded: "已转报市热线",
		r_st_handed_over: "已移交市热线",
		r_today: "仅今天",
		r_repeats: "仅疑似重复",
		r_refresh: "刷新",
		r_new: "为市民登记诉求",
		r_col_no: "编号",
		r_col_time: "受理时间",
		r_col_cat: "类别",
		r_col_state: "状态",
		r_col_channel: "渠道",
		r_ch_kiosk: "自助机",
		r_ch_window: "窗口",
		r_empty: "没有符合条件的诉求。",
		r_repeat_of: "疑似重复：{n}（相似度 {s}）",
		r_contact: "联系方式",
		r_show_full: "显示完整联系方式",
		r_no_contact: "未留联系方式",
		r_answer: "当场答复办结",
		r_answer_text: "答复内容",
		r_forward: "转报市热线",
		r_forward_note: "备注（仅本机保存）",
		r_reprint: "补打回执",
		r_history: "处理记录",
		r_answered_by: "答复：{a}",
		r_saved: "已保存。",
		r_reprinted: "回执已补打。",
		r_filed: "已登记：{n}，查询码 {c}",
		r_lookup_title: "来访查询并排队",
		r_lookup_key: "查询码、诉求编号或工单编号",
		r_window: "窗口",
		r_queue_it: "排队到该窗口",
		r_queued: "已取号 {n}，请到 {w} 号窗口",
		r_owner_label: "首接负责",
		r_act_filed: "受理",
		r_act_answered: "当场答复",
		r_act_forwarded: "转报市热线",
		r_act_handed_over: "市热线接收",
	});
	Object.assign(shell.strings.en, {
		r_title_request: "File a request",
		r_title_progress: "Check progress",
		r_title_rate: "Rate the service",
		r_home: "Back to home",
		r_prev: "Back",
		r_next: "Next",
		r_kind_lead: "First, choose what your matter is",
		r_cat_consult: "Question",
		r_cat_consult_sub: "Policies, how to get things done",
		r_cat_help: "Help",
		r_cat_help_sub: "You need help with a difficulty",
		r_cat_complaint: "Complaint",
		r_cat_complaint_sub: "Unhappy with a service or its management",
		r_cat_report: "Report",
		r_cat_report_sub: "Report wrongdoing",
		r_cat_suggestion: "Suggestion",
		r_cat_suggestion_sub: "Opinions and suggestions",
		r_not_lead: "The 12345 hotline does not handle these",
		r_emergency_lead: "In an emergency, call",
		r_refused_title: "The 12345 hotline cannot accept this matter",
		r_refused_where: "Please:",
		r_refused_why: "This covers:",
		r_choose_other: "Choose another matter",
		r_field: "Field",
		r_field_economy: "Economic regulation",
		r_field_market: "Market supervision",
		r_field_social: "Social management",
		r_field_public_service: "Public services",
		r_field_environment: "Environmental protection",
		r_content: "Your request (required)",
		r_content_ph: "What happened, when, and what you ask for",
		r_location: "Where (optional)",
		r_name: "Name (optional)",
		r_phone: "Phone (optional, for our reply)",
		r_hide: "Hide my identity",
		r_hide_sub: "The departments handling it do not see your name and phone",
		r_consent: "Your name and phone are used only to handle this request and to call you back; they are stored encrypted, screens and receipts show them partly hidden, and they are erased a set time after the matter is closed.",
		r_need_field: "Please choose a field.",
		r_need_content: "Please describe your request.",
		r_bad_phone: "A phone number has digits, spaces and '-' only, e.g. 13812345678.",
		r_confirm_lead: "Please check",
		r_submit: "Submit",
		r_sending: "Submitting…",
		r_done_title: "Your request has been received",
		r_number: "Request number",
		r_code: "Lookup code",
		r_code_help: "Use the lookup code under “Check progress” on this kiosk.",
		r_printed: "Your receipt is printed; please take it and keep it.",
		r_not_printed: "The receipt could not be printed: please write down or photograph the lookup code above.",
		r_owner: "This office owns your request until it answers you or hands it over to the city 12345 hotline (first-contact responsibility).",
		r_repeat: "You reported a similar matter recently ({n}); we will handle them together.",
		r_returning: "Back to home in {n} s",
		r_done: "Done",
		r_failed: "That did not work. Please try again or ask the staff.",
		r_retry: "Try again",
		r_no_service: "The appliance service is not responding. Please ask the staff.",
		r_anonymous: "(anonymous)",
		r_none: "not given",
		r_enter_code: "Enter the 8-character lookup code on your receipt or ticket",
		r_enter_code_rate: "Enter the lookup code on your receipt or ticket, or today's ticket number (e.g. A012)",
		r_clear: "Clear",
		r_del: "Delete",
		r_search: "Look up",
		r_state: "State",
		r_timeline: "Steps",
		r_rate_this: "Rate this service",
		r_rated: "You have rated this already. Thank you.",
		r_another: "Look up another",
		r_grade_lead: "How satisfied are you with the service?",
		r_grade_5: "Very satisfied",
		r_grade_4: "Satisfied",
		r_grade_3: "Fairly satisfied",
		r_grade_2: "Dissatisfied",
		r_grade_1: "Very dissatisfied",
		r_comment: "Comment (optional; no personal details please)",
		r_rate_submit: "Send my rating",
		r_thanks: "Thank you for your rating!",
		r_need_grade: "Please choose one.",
		r_kind_request: "Walk-in request",
		r_kind_order: "Work order",
		r_kind_ticket: "Queue ticket",
		r_tab: "Walk-in requests",
		r_filter_state: "State",
		r_all: "All",
		r_st_open: "Open",
		r_st_answered: "Answered",
		r_st_forwarded: "Forwarded",
		r_st_handed_over: "Handed over",
		r_today: "Today only",
		r_repeats: "Possible repeats only",
		r_refresh: "Refresh",
		r_new: "File for a citizen",
		r_col_no: "Number",
		r_col_time: "Filed",
		r_col_cat: "Category",
		r_col_state: "State",
		r_col_channel: "Channel",
		r_ch_kiosk: "Kiosk",
		r_ch_window: "Window",
		r_empty: "No requests match.",
		r_repeat_of: "Possible repeat of {n} (similarity {s})",
		r_contact: "Contact",
		r_show_full: "Show full contact",
		r_no_contact: "No contact left",
		r_answer: "Answer on the spot",
		r_answer_text: "Answer given",
		r_forward: "Forward to the city",
		r_forward_note: "Note (kept on this device)",
		r_reprint: "Reprint receipt",
		r_history: "History",
		r_answered_by: "Answer: {a}",
		r_saved: "Saved.",
		r_reprinted: "Receipt reprinted.",
		r_filed: "Filed: {n}, lookup code {c}",
		r_lookup_title: "Citizen about an existing matter",
		r_lookup_key: "Lookup code, request or order number",
		r_window: "Window",
		r_queue_it: "Queue to this window",
		r_queued: "Ticket {n} issued for window {w}",
		r_owner_label: "First contact",
		r_act_filed: "Filed",
		r_act_answered: "Answered",
		r_act_forwarded: "Forwarded",
		r_act_handed_over: "Taken over by the city",
	});

	const CATEGORIES = ["consult", "help", "complaint", "report", "suggestion"];
	const FIELDS = ["economy", "market", "social", "public_service", "environment"];
	const STATES = ["open", "answered", "forwarded", "handed_over"];
	const CODE_CHARS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
	const RETURN_MS = 30000; /* the receipt screen goes home after this */
	const RETURN_NO_PAPER_MS = 90000; /* longer when the code must be written down */
	const IDLE_MS = 120000; /* typing takes longer than a tap: our own idle rule */

	const $ = staff.$;

	const fmt = staff.fmt;

	function pick(o, base) {
		if (!o) {
			return "";
		}
		const zh = o[base + "_zh"] || "";
		const en = o[base + "_en"] || "";
		return (shell.lang() === "zh" ? zh || en : en || zh) || "";
	}

	/* The words of an error answer: the server's own in the current language. */
	function serverWords(e) {
		return shell.errorWords(e, "r_no_service", "r_failed");
	}

	const publicApi = shell.publicApi;
	const pad = shell.pad;

	function when(ms) {
		const d = new Date(ms);
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
			pad(d.getHours()) + ":" + pad(d.getMinutes());
	}

	/* What the citizen typed, shown masked (the server's rules, simplified). */
	function maskPhone(p) {
		const digits = p.replace(/\D/g, "");
		if (digits.length === 11 && digits[0] === "1") {
			return digits.slice(0, 3) + "****" + digits.slice(7);
		}
		const keep = Math.min(4, Math.floor(digits.length / 2));
		return "*".repeat(digits.length - keep) + digits.slice(digits.length - keep);
	}

	function maskName(n) {
		const chars = Array.from(n);
		return chars.length <= 1 ? "*" : chars[0] + "*".repeat(chars.length - 1);
	}

	/* ================= citizen ================= */

	const cz = {
		mode: null, /* "request", "progress", "rate" */
		view: null,
		refusals: null, /* GET /api/v1/requests/not-accepted */
		kind: null, /* chosen category or refused kind */
		refused: null,
		form: { field: null, content: "", location: "", name: "", phone: "", hide: false },
		formMsg: null,
		result: null, /* POST answer */
		error: null,
		code: "",
		lookup: null,
		grade: 0,
		comment: "",
		busy: false,
		back: 0,
		backAt: 0,
		idle: 0,
	};

	function buildCitizen() {
		const sec = h("section", { id: "requests", class: "c-screen r-citizen", hidden: true },
			h("div", { class: "c-bar" },
				h("h2", { id: "r-title" }),
				h("button", { id: "r-home", type: "button", class: "c-tool", i18n: "r_home",
					on: { click: () => shell.resetHome() } })),
			h("div", { id: "r-body", class: "r-body" }));
		for (const ev of ["pointerdown", "keydown", "input"]) {
			sec.addEventListener(ev, restartIdle, true);
		}
		return sec;
	}

	function shown() {
		const s = $("requests");
		return s !== null && !s.hidden;
	}

	function restartIdle() {
		clearTimeout(cz.idle);
		if (shown()) {
			cz.idle = setTimeout(() => shell.resetHome(), IDLE_MS);
		}
	}

	function open(mode) {
		for (const s of document.querySelectorAll("main > section")) {
			s.hidden = s.id !== "requests";
		}
		shell.holdIdle(true);
		cz.mode = mode;
		cz.error = null;
		cz.busy = false;
		clearInterval(cz.back);
		if (mode === "request") {
			resetForm();
			cz.view = "kind";
			loadRefusals();
		} else if (mode === "progress") {
			cz.view = "code";
			cz.lookup = null;
		} else {
			cz.view = "code";
			cz.grade = 0;
			cz.comment = "";
		}
		restartIdle();
		render();
	}

	function close() {
		clearInterval(cz.back);
		clearTimeout(cz.idle);
		const s = $("requests");
		if (s && !s.hidden) {
			s.hidden = true;
			shell.holdIdle(false);
		}
		cz.mode = null;
		cz.result = null;
		cz.lookup = null;
		cz.code = "";
		resetForm();
	}

	function resetForm() {
		cz.kind = null;
		cz.refused = null;
		cz.form = { field: null, content: "", location: "", name: "", phone: "", hide: false };
		cz.formMsg = null;
		cz.result = null;
	}

	async function loadRefusals() {
		if (cz.refusals) {
			return;
		}
		try {
			cz.refusals = await publicApi("GET", "/api/v1/requests/not-accepted");
		} catch (e) {
			cz.error = e;
		}
		if (shown()) {
			render();
		}
	}

	function go(view) {
		cz.view = view;
		render();
	}

	function bigButton(props, title, sub) {
		return h("button", Object.assign({ type: "button" }, props),
			h("span", { class: "r-btn-title", text: title }),
			sub ? h("span", { class: "r-btn-sub", text: sub }) : null);
	}

	/* ---- file a request ---- */

	function kindView() {
		const parts = [h("p", { class: "r-lead", i18n: "r_kind_lead" }),
			h("div", { class: "r-kinds" }, ...CATEGORIES.map((c) =>
				bigButton({ class: "r-kind", "data-kind": c, on: { click: () => {
					cz.kind = c;
					go("form");
				} } }, t("r_cat_" + c), t("r_cat_" + c + "_sub"))))];
		const d = cz.refusals;
		if (d) {
			parts.push(h("p", { class: "r-lead r-not-lead", i18n: "r_not_lead" }),
				h("div", { class: "r-refusals" }, ...(d.matters || []).map((m) =>
					h("button", { type: "button", class: "r-refusal", "data-kind": m.kind,
						text: pick(m, "name"), on: { click: () => {
							cz.refused = m;
							go("refused");
						} } }))),
				h("p", { class: "r-lead r-not-lead", i18n: "r_emergency_lead" }),
				h("div", { class: "r-emergencies" }, ...(d.emergencies || []).map((m) =>
					h("button", { type: "button", class: "r-emergency", "data-kind": m.kind,
						on: { click: () => {
							cz.refused = m;
							go("refused");
						} } },
					h("span", { class: "r-em-phone", text: m.phone }),
					h("span", { class: "r-em-name", text: pick(m, "name") })))));
		} else if (cz.error) {
			parts.push(h("p", { class: "r-msg", "data-kind": "error", text: serverWords(cz.error) }));
		}
		return parts;
	}

	function refusedView() {
		const m = cz.refused || {};
		return [h("div", { id: "r-refused", class: "c-card r-refused", "data-kind": m.kind || "" },
			h("h3", { i18n: "r_refused_title" }),
			h("p", { class: "r-refused-name", text: pick(m, "name") }),
			h("p", {}, h("span", { class: "r-label", i18n: "r_refused_why" }),
				h("span", { text: pick(m, "why") })),
			h("p", { class: "r-where" }, h("span", { class: "r-label", i18n: "r_refused_where" }),
				h("span", { id: "r-where", text: pick(m, "where") })),
			m.phone ? h("p", { class: "r-where-phone", text: m.phone }) : null),
		h("div", { class: "r-row" },
			h("button", { id: "r-other", type: "button", class: "c-main", i18n: "r_choose_other",
				on: { click: () => go("kind") } }),
			h("button", { type: "button", class: "c-second", i18n: "r_home",
				on: { click: () => shell.resetHome() } }))];
	}

	function input(id, key, value, props) {
		const el = h(props && props.multiline ? "textarea" : "input", Object.assign({
			id, class: "r-input", autocomplete: "off",
		}, props && props.attrs ? props.attrs : {}));
		el.value = value;
		el.addEventListener("input", () => {
			cz.form[key] = el.value;
		});
		return el;
	}

	function formView() {
		const f = cz.form;
		const sw = h("input", { id: "r-hide", type: "checkbox", class: "r-switch", role: "switch" });
		sw.checked = f.hide;
		sw.addEventListener("change", () => {
			f.hide = sw.checked;
		});
		const msg = h("p", { id: "r-form-msg", class: "r-msg", "data-kind": "error", role: "alert",
			hidden: !cz.formMsg, text: cz.formMsg ? t(cz.formMsg) : "" });
		return [h("p", { class: "r-chosen", text: t("r_cat_" + cz.kind) }),
			h("p", { class: "r-label", i18n: "r_field" }),
			h("div", { class: "r-fields" }, ...FIELDS.map((x) =>
				h("button", { type: "button", class: "r-field" + (f.field === x ? " is-on" : ""),
					"data-field": x, "aria-pressed": f.field === x ? "true" : "false",
					i18n: "r_field_" + x, on: { click: () => {
						f.field = x;
						if (cz.formMsg === "r_need_field") {
							cz.formMsg = null;
						}
						render();
					} } }))),
			h("label", { class: "r-fieldset" }, h("span", { i18n: "r_content" }),
				input("r-content", "content", f.content, { multiline: true,
					attrs: { rows: "4", maxlength: "600", placeholder: t("r_content_ph") } })),
			h("label", { class: "r-fieldset" }, h("span", { i18n: "r_location" }),
				input("r-location", "location", f.location, { attrs: { maxlength: "60" } })),
			h("div", { class: "r-pair" },
				h("label", { class: "r-fieldset" }, h("span", { i18n: "r_name" }),
					input("r-name", "name", f.name, { attrs: { maxlength: "30" } })),
				h("label", { class: "r-fieldset" }, h("span", { i18n: "r_phone" }),
					input("r-phone", "phone", f.phone, { attrs: { maxlength: "20",
						inputmode: "tel", type: "tel" } }))),
			h("label", { class: "r-hide" }, sw,
				h("span", { class: "r-hide-text" }, h("span", { i18n: "r_hide" }),
					h("span", { class: "r-btn-sub", i18n: "r_hide_sub" }))),
			h("p", { class: "r-consent", i18n: "r_consent" }),
			msg,
			h("div", { class: "r-row" },
				h("button", { id: "r-next", type: "button", class: "c-main", i18n: "r_next",
					on: { click: checkForm } }),
				h("button", { type: "button", class: "c-second", i18n: "r_prev",
					on: { click: () => go("kind") } }))];
	}

	function checkForm() {
		const f = cz.form;
		cz.formMsg = !f.field ? "r_need_field" : f.content.trim() === "" ? "r_need_content" :
			f.phone.trim() !== "" && !/^\+?[\d -]{3,20}$/.test(f.phone.trim()) ? "r_bad_phone" : null;
		go(cz.formMsg ? "form" : "confirm");
	}

	function confirmView() {
		const f = cz.form;
		const row = (key, value) => h("div", { class: "r-kv" },
			h("span", { class: "r-label", i18n: key }), h("span", { class: "r-value", text: value }));
		const name = f.name.trim(), phone = f.phone.trim();
		return [h("p", { class: "r-lead", i18n: "r_confirm_lead" }),
			h("div", { id: "r-confirm", class: "c-card" },
				row("r_title_request", t("r_cat_" + cz.kind)),
				row("r_field", t("r_field_" + f.field)),
				row("r_content", f.content.trim()),
				row("r_location", f.location.trim() || t("r_none")),
				row("r_name", f.hide && name ? t("r_anonymous") : name ? maskName(name) : t("r_none")),
				row("r_phone", f.hide && phone ? t("r_anonymous") :
					phone ? maskPhone(phone) : t("r_none"))),
			h("div", { class: "r-row" },
				h("button", { id: "r-submit", type: "button", class: "c-main", i18n: "r_submit",
					on: { click: submit } }),
				h("button", { type: "button", class: "c-second", i18n: "r_prev",
					on: { click: () => go("form") } }))];
	}

	async function submit() {
		if (cz.busy) {
			return;
		}
		const f = cz.form;
		cz.busy = true;
		go("sending");
		try {
			cz.result = await publicApi("POST", "/api/v1/requests", {
				kind: cz.kind, category: cz.kind, field: f.field, content: f.content.trim(),
				location: f.location.trim(), name: f.name.trim(), phone: f.phone.trim(),
				hide_identity: f.hide,
			});
			cz.view = "done";
			startReturn(cz.result.printed ? RETURN_MS : RETURN_NO_PAPER_MS);
		} catch (e) {
			cz.error = e;
			cz.view = e.code === "bad_request" ? "form" : "error";
			cz.formMsg = null;
		} finally {
			cz.busy = false;
		}
		if (shown()) {
			render();
		}
	}

	function startReturn(ms) {
		clearInterval(cz.back);
		cz.backAt = Date.now() + ms;
		cz.back = setInterval(() => {
			if (!shown()) {
				clearInterval(cz.back);
				return;
			}
			if (Date.now() >= cz.backAt) {
				shell.resetHome();
				return;
			}
			const el = $("r-returning");
			if (el) {
				el.textContent = fmt("r_returning", { n: Math.ceil((cz.backAt - Date.now()) / 1000) });
			}
		}, 500);
	}

	function doneView() {
		const res = cz.result || {};
		const q = res.request || {};
		const pe = res.print_error;
		return [h("div", { id: "r-done", class: "c-card r-done", "data-printed": res.printed ? "true" : "false" },
			h("h3", { i18n: "r_done_title" }),
			h("p", {}, h("span", { class: "r-label", i18n: "r_number" }),
				h("span", { id: "r-number", class: "r-value", text: q.number || "" })),
			h("p", { class: "r-label", i18n: "r_code" }),
			h("p", { id: "r-code", class: "r-code" + (res.printed ? "" : " r-code-large"),
				text: q.lookup_code || "" }),
			h("p", { i18n: "r_code_help" }),
			h("p", { id: "r-print-state", class: "r-msg", "data-kind": res.printed ? "ok" : "error",
				text: res.printed ? t("r_printed") :
					(pe ? serverWords({ status: 503, zh: pe.message_zh, en: pe.message }) + " " : "") +
					t("r_not_printed") }),
			q.repeat_of ? h("p", { class: "r-repeat", text: fmt("r_repeat", { n: q.repeat_of }) }) : null,
			h("p", { class: "r-owner", i18n: "r_owner" })),
		h("div", { class: "r-row" },
			h("button", { id: "r-finish", type: "button", class: "c-main", i18n: "r_done",
				on: { click: () => shell.resetHome() } }),
			h("span", { id: "r-returning", class: "r-returning",
				text: fmt("r_returning", { n: Math.ceil((cz.backAt - Date.now()) / 1000) }) }))];
	}

	function errorView(retry) {
		return [h("div", { id: "r-error", class: "c-card", "data-code": (cz.error || {}).code || "" },
			h("p", { id: "r-error-msg", class: "r-msg", "data-kind": "error", text: serverWords(cz.error) })),
		h("div", { class: "r-row" },
			h("button", { id: "r-retry", type: "button", class: "c-main", i18n: "r_retry",
				on: { click: retry } }),
			h("button", { type: "button", class: "c-second", i18n: "r_home",
				on: { click: () => shell.resetHome() } }))];
	}

	/* ---- code entry (progress and rating) ---- */

	function codeView(rate) {
		const inp = h("input", { id: "r-code-input", class: "r-input r-code-input", autocomplete: "off",
			autocapitalize: "characters", spellcheck: "false", maxlength: "8" });
		inp.value = cz.code;
		inp.addEventListener("input", () => {
			cz.code = inp.value.toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, 8);
			if (inp.value !== cz.code) {
				inp.value = cz.code;
			}
		});
		inp.addEventListener("keydown", (e) => {
			if (e.key === "Enter") {
				(rate ? toGrades : lookup)();
			}
		});
		const press = (k) => {
			cz.code = k === "clear" ? "" : k === "del" ? cz.code.slice(0, -1) :
				(cz.code + k).slice(0, 8);
			inp.value = cz.code;
		};
		const keys = (rate ? "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ" : CODE_CHARS).split("");
		const msg = cz.error ? h("p", { id: "r-code-msg", class: "r-msg", "data-kind": "error",
			role: "alert", text: serverWords(cz.error) }) : null;
		setTimeout(() => inp.focus(), 0);
		return [h("p", { class: "r-lead", i18n: rate ? "r_enter_code_rate" : "r_enter_code" }),
			inp, msg,
			h("div", { class: "r-keys", role: "group" }, ...keys.map((k) =>
				h("button", { type: "button", class: "r-key", "data-key": k, text: k,
					on: { click: () => press(k) } })),
			h("button", { type: "button", class: "r-key r-key-wide", "data-key": "del", i18n: "r_del",
				on: { click: () => press("del") } }),
			h("button", { type: "button", class: "r-key r-key-wide", "data-key": "clear",
				i18n: "r_clear", on: { click: () => press("clear") } })),
			h("div", { class: "r-row" },
				h("button", { id: "r-search", type: "button", class: "c-main",
					i18n: rate ? "r_next" : "r_search", on: { click: rate ? toGrades : lookup } }))];
	}

	async function lookup() {
		if (cz.busy || cz.code === "") {
			return;
		}
		cz.busy = true;
		try {
			cz.lookup = await publicApi("GET", "/api/v1/lookup/" + encodeURIComponent(cz.code));
			cz.error = null;
			cz.view = "result";
		} catch (e) {
			cz.error = e;
			cz.view = "code";
		} finally {
			cz.busy = false;
		}
		if (shown()) {
			render();
		}
	}

	function resultView() {
		const d = cz.lookup || {};
		const tl = Array.isArray(d.timeline) ? d.timeline : [];
		const kindKey = "r_kind_" + (d.kind || "request");
		return [h("div", { id: "r-result", class: "c-card", "data-kind": d.kind || "",
			"data-state": d.state || "" },
		h("p", { class: "r-kind-line" }, h("span", { class: "r-label", i18n: kindKey }),
			h("span", { id: "r-result-number", class: "r-value", text: d.number || "" })),
		h("p", {}, h("span", { class: "r-label", i18n: "r_state" }),
			h("span", { id: "r-result-state", class: "r-state", text: pick(d, "state") })),
		h("p", { class: "r-label", i18n: "r_timeline" }),
		h("ol", { id: "r-timeline", class: "r-timeline" }, ...tl.map((s) =>
			h("li", {}, h("span", { class: "r-when", text: s.at_ms ? when(s.at_ms) : "" }),
				h("span", { text: (shell.lang() === "zh" ? s.zh : s.en) || s.zh || s.en ||
					pick(s, "step") || s.step || "" })))),
		d.rated ? h("p", { class: "r-msg", "data-kind": "ok", i18n: "r_rated" }) : null),
		h("div", { class: "r-row" },
			d.can_rate ? h("button", { id: "r-rate-this", type: "button", class: "c-main",
				i18n: "r_rate_this", on: { click: () => {
					cz.mode = "rate";
					cz.grade = 0;
					cz.comment = "";
					go("grades");
				} } }) : null,
			h("button", { id: "r-another", type: "button", class: d.can_rate ? "c-second" : "c-main",
				i18n: "r_another", on: { click: () => {
					cz.code = "";
					cz.error = null;
					go("code");
				} } }))];
	}

	function toGrades() {
		if (cz.code === "") {
			return;
		}
		cz.error = null;
		go("grades");
	}

	function gradesView() {
		const comment = h("textarea", { id: "r-comment", class: "r-input", rows: "2",
			maxlength: "100", autocomplete: "off" });
		comment.value = cz.comment;
		comment.addEventListener("input", () => {
			cz.comment = comment.value;
		});
		return [h("p", { class: "r-lead", i18n: "r_grade_lead" }),
			h("div", { class: "r-grades" }, ...[5, 4, 3, 2, 1].map((g) =>
				h("button", { type: "button", class: "r-grade" + (cz.grade === g ? " is-on" : ""),
					"data-grade": String(g), "aria-pressed": cz.grade === g ? "true" : "false",
					on: { click: () => {
						cz.grade = g;
						cz.error = null;
						render();
					} } },
				h("span", { class: "r-btn-title", text: shell.strings.zh["r_grade_" + g] }),
				shell.lang() === "zh" ? null :
					h("span", { class: "r-btn-sub", text: t("r_grade_" + g) })))),
			h("label", { class: "r-fieldset" }, h("span", { i18n: "r_comment" }), comment),
			cz.error ? h("p", { id: "r-rate-msg", class: "r-msg", "data-kind": "error", role: "alert",
				text: cz.error.key ? t(cz.error.key) : serverWords(cz.error) }) : null,
			h("div", { class: "r-row" },
				h("button", { id: "r-rate-submit", type: "button", class: "c-main", i18n: "r_rate_submit",
					on: { click: sendRating } }),
				h("button", { type: "button", class: "c-second", i18n: "r_prev",
					on: { click: () => {
						cz.error = null;
						go("code");
					} } }))];
	}

	async function sendRating() {
		if (cz.busy) {
			return;
		}
		if (!cz.grade) {
			cz.error = { key: "r_need_grade" };
			render();
			return;
		}
		cz.busy = true;
		try {
			const body = { code: cz.code, grade: cz.grade };
			if (cz.comment.trim() !== "") {
				body.comment = cz.comment.trim();
			}
			await publicApi("POST", "/api/v1/ratings", body);
			cz.error = null;
			cz.view = "thanks";
			startReturn(RETURN_MS / 3);
		} catch (e) {
			cz.error = e;
		} finally {
			cz.busy = false;
		}
		if (shown()) {
			render();
		}
	}

	function thanksView() {
		return [h("div", { id: "r-thanks", class: "c-card r-done" }, h("h3", { i18n: "r_thanks" })),
			h("div", { class: "r-row" },
				h("button", { type: "button", class: "c-main", i18n: "r_done",
					on: { click: () => shell.resetHome() } }),
				h("span", { id: "r-returning", class: "r-returning" }))];
	}

	function render() {
		const sec = $("requests");
		if (!sec || sec.hidden) {
			return;
		}
		$("r-title").textContent = t(cz.mode === "request" ? "r_title_request" :
			cz.mode === "progress" ? "r_title_progress" : "r_title_rate");
		let parts;
		switch (cz.view) {
		case "kind":
			parts = kindView();
			break;
		case "refused":
			parts = refusedView();
			break;
		case "form":
			parts = formView();
			if (cz.error && cz.error.code === "bad_request") {
				parts.splice(parts.length - 1, 0, h("p", { class: "r-msg", "data-kind": "error",
					text: serverWords(cz.error) }));
			}
			break;
		case "confirm":
			parts = confirmView();
			break;
		case "sending":
			parts = [h("div", { id: "r-sending", class: "c-card" }, h("p", { i18n: "r_sending" }))];
			break;
		case "done":
			parts = doneView();
			break;
		case "code":
			parts = codeView(cz.mode === "rate");
			break;
		case "result":
			parts = resultView();
			break;
		case "grades":
			parts = gradesView();
			break;
		case "thanks":
			parts = thanksView();
			break;
		default:
			parts = errorView(() => go(cz.mode === "request" ? "confirm" : "code"));
		}
		sec.dataset.view = cz.view;
		sec.dataset.mode = cz.mode || "";
		$("r-body").replaceChildren(...parts.filter((x) => x !== null && x !== undefined));
	}

	/* /#lookup=CODE (the receipt's QR as a link) opens the lookup straight away. */
	function fromHash() {
		const m = /^#lookup=([0-9A-Za-z]{1,8})$/.exec(window.location.hash || "");
		if (!m) {
			return;
		}
		open("progress");
		cz.code = m[1].toUpperCase();
		try {
			window.history.replaceState(null, "", window.location.pathname);
		} catch (e) {
			/* the hash stays: harmless */
		}
		lookup();
	}

	/* ================= staff: 来访诉求 ================= */

	const st = {
		list: [],
		selected: null, /* detail answer */
		windows: [],
		timer: 0,
	};

	function buildStaff() {
		const sel = h("select", { id: "rs-state", class: "s-input", on: { change: loadList } },
			h("option", { value: "", i18n: "r_all" }),
			...STATES.map((s) => h("option", { value: s, i18n: "r_st_" + s })));
		const check = (id, key) => h("label", { class: "rs-check" },
			h("input", { id, type: "checkbox", on: { change: loadList } }), h("span", { i18n: key }));
		return h("div", { id: "sh-requests", class: "sh-section rs-staff", hidden: true },
			h("div", { class: "s-row rs-tools" },
				h("label", { class: "s-field" }, h("span", { i18n: "r_filter_state" }), sel),
				check("rs-today", "r_today"), check("rs-repeat", "r_repeats"),
				h("button", { id: "rs-refresh", type: "button", class: "s-secondary", i18n: "r_refresh",
					on: { click: loadList } }),
				h("button", { id: "rs-new", type: "button", class: "s-primary", i18n: "r_new",
					on: { click: newRequest } })),
			h("p", { id: "rs-msg", class: "s-msg", role: "status", hidden: true }),
			h("div", { class: "rs-main" },
				h("table", { class: "s-table rs-table" },
					h("thead", {}, h("tr", {},
						...["r_col_no", "r_col_time", "r_col_cat", "r_col_state", "r_col_channel"]
							.map((k) => h("th", { i18n: k })))),
					h("tbody", { id: "rs-rows" })),
				h("div", { id: "rs-detail", class: "s-card rs-detail", hidden: true })),
			h("div", { class: "s-card rs-queue" },
				h("h3", { i18n: "r_lookup_title" }),
				h("div", { class: "s-row" },
					staff.field("r_lookup_key", h("input", { id: "rs-key", class: "s-input",
						autocomplete: "off", maxlength: "31" })),
					staff.field("r_window", h("select", { id: "rs-window", class: "s-input" })),
					h("button", { id: "rs-queue-it", type: "button", class: "s-primary", i18n: "r_queue_it",
						on: { click: queueIt } })),
				h("p", { id: "rs-queue-msg", class: "s-msg", role: "status", hidden: true })));
	}

	function say(m, kind) {
		staff.say($("rs-msg"), m, kind);
	}

	async function openStaff() {
		say(null);
		staff.say($("rs-queue-msg"), null);
		st.selected = null;
		await loadList();
		try {
			const snap = await staff.api("GET", "/api/v1/queue/snapshot");
			st.windows = Array.isArray(snap.windows) ? snap.windows : [];
		} catch (e) {
			st.windows = [];
		}
		renderStaff();
	}

	async function loadList() {
		const q = new URLSearchParams();
		if ($("rs-state").value) {
			q.set("state", $("rs-state").value);
		}
		if ($("rs-today").checked) {
			q.set("today", "1");
		}
		if ($("rs-repeat").checked) {
			q.set("repeat", "1");
		}
		try {
			const r = await staff.api("GET", "/api/v1/requests?" + q.toString());
			st.list = Array.isArray(r.requests) ? r.requests : [];
		} catch (e) {
			if (e.status !== 401) {
				say(staff.errMsg(e));
			}
			return;
		}
		renderStaff();
	}

	async function loadDetail(number, full) {
		try {
			st.selected = await staff.api("GET", "/api/v1/requests/" + encodeURIComponent(number) +
				(full ? "?contact=full" : ""));
		} catch (e) {
			if (e.status !== 401) {
				say(staff.errMsg(e));
			}
			return;
		}
		renderStaff();
	}

	function renderStaff() {
		const rows = $("rs-rows");
		if (!rows) {
			return;
		}
		rows.replaceChildren(...(st.list.length === 0 ?
			[h("tr", {}, h("td", { colspan: "5", i18n: "r_empty" }))] :
			st.list.map((q) => h("tr", {
				class: "rs-row" + (st.selected && st.selected.request.number === q.number ? " is-on" : ""),
				"data-number": q.number, on: { click: () => loadDetail(q.number, false) },
			},
			h("td", {}, h("span", { text: q.number }),
				q.repeat_of ? h("span", { class: "rs-flag", text: "↺" }) : null),
			h("td", { text: when(q.filed_ms) }),
			h("td", { text: pick(q, "category") }),
			h("td", { text: t("r_st_" + q.state) }),
			h("td", { text: t("r_ch_" + q.channel) })))));
		const sel = $("rs-window");
		const keep = sel.value;
		sel.replaceChildren(...st.windows.map((w) => h("option", { value: String(w.no),
			text: w.no + " · " + pick(w, "name") })));
		if (keep) {
			sel.value = keep;
		}
		renderDetail();
	}

	function renderDetail() {
		const box = $("rs-detail");
		const d = st.selected;
		if (!d) {
			box.hidden = true;
			box.replaceChildren();
			return;
		}
		const q = d.request;
		const c = d.contact;
		const kv = (key, text) => h("p", { class: "rs-kv" }, h("span", { class: "rs-k", i18n: key }),
			h("span", { text }));
		const contact = !c ? t("r_no_contact") : c.unavailable ? t("r_no_service") :
			[c.name, c.phone].filter((x) => x).join(" ") + (c.anonymous ? " " + t("r_anonymous") : "");
		box.hidden = false;
		box.replaceChildren(...[
			h("h3", { id: "rs-detail-number", text: q.number + " · " + t("r_st_" + q.state) }),
			kv("r_col_cat", pick(q, "category") + " · " + pick(q, "field")),
			kv("r_col_time", when(q.filed_ms)),
			kv("r_owner_label", q.owner_office + " · " + q.owner_user),
			kv("r_location", q.location || t("r_none")),
			h("p", { class: "rs-content", text: q.content }),
			q.repeat_of ? h("p", { class: "rs-repeat",
				text: fmt("r_repeat_of", { n: q.repeat_of, s: Number(q.similarity).toFixed(2) }) }) : null,
			q.answer ? h("p", { class: "rs-answer", text: fmt("r_answered_by", { a: q.answer }) }) : null,
			h("p", { class: "rs-kv" }, h("span", { class: "rs-k", i18n: "r_contact" }),
				h("span", { id: "rs-contact", text: contact }),
				c && c.view === "masked" ? h("button", { id: "rs-full", type: "button",
					class: "s-secondary", i18n: "r_show_full",
					on: { click: () => loadDetail(q.number, true) } }) : null),
			h("div", { class: "s-row" },
				q.state === "open" ? h("button", { id: "rs-answer", type: "button", class: "s-primary",
					i18n: "r_answer", on: { click: () => answer(q) } }) : null,
				q.state === "open" ? h("button", { id: "rs-forward", type: "button",
					class: "s-secondary", i18n: "r_forward", on: { click: () => forward(q) } }) : null,
				h("button", { id: "rs-reprint", type: "button", class: "s-secondary", i18n: "r_reprint",
					on: { click: () => reprint(q) } })),
			h("h4", { i18n: "r_history" }),
			h("ol", { class: "rs-history" }, ...(d.history || []).map((e) =>
				h("li", { text: when(e.at_ms) + " · " + t("r_act_" + e.action) + " · " + e.actor +
					(e.note ? " · " + e.note : "") })))].filter((x) => x !== null));
	}

	function answer(q) {
		const text = h("textarea", { id: "rs-answer-text", class: "s-input", rows: "4", maxlength: "600" });
		staff.dialog({
			text: { key: "r_answer" },
			body: staff.field("r_answer_text", text),
			confirmKey: "r_answer",
			run: async (msg) => {
				if (text.value.trim() === "") {
					staff.say(msg, { key: "r_answer_text" });
					return false;
				}
				st.selected = await staff.api("POST", "/api/v1/requests/" +
					encodeURIComponent(q.number) + "/answer", { answer: text.value.trim() });
				say({ key: "r_saved" }, "ok");
				loadList();
				return true;
			},
		});
	}

	function forward(q) {
		const note = h("textarea", { id: "rs-forward-note", class: "s-input", rows: "2", maxlength: "160" });
		staff.dialog({
			text: { key: "r_forward" },
			body: staff.field("r_forward_note", note),
			confirmKey: "r_forward",
			run: async () => {
				st.selected = await staff.api("POST", "/api/v1/requests/" +
					encodeURIComponent(q.number) + "/forward", { note: note.value.trim() });
				say({ key: "r_saved" }, "ok");
				loadList();
				return true;
			},
		});
	}

	async function reprint(q) {
		try {
			st.selected = await staff.api("POST", "/api/v1/requests/" + encodeURIComponent(q.number) +
				"/reprint");
			say({ key: "r_reprinted" }, "ok");
		} catch (e) {
			if (e.status !== 401) {
				say(staff.errMsg(e));
			}
		}
		renderStaff();
	}

	function newRequest() {
		const cat = h("select", { id: "rs-n-cat", class: "s-input" },
			...CATEGORIES.map((c) => h("option", { value: c, i18n: "r_cat_" + c })));
		const fld = h("select", { id: "rs-n-field", class: "s-input" },
			...FIELDS.map((x) => h("option", { value: x, i18n: "r_field_" + x })));
		const content = h("textarea", { id: "rs-n-content", class: "s-input", rows: "4", maxlength: "600" });
		const loc = h("input", { id: "rs-n-location", class: "s-input", maxlength: "60" });
		const name = h("input", { id: "rs-n-name", class: "s-input", maxlength: "30", autocomplete: "off" });
		const phone = h("input", { id: "rs-n-phone", class: "s-input", maxlength: "20", autocomplete: "off" });
		const hide = h("input", { id: "rs-n-hide", type: "checkbox" });
		staff.dialog({
			text: { key: "r_new" },
			body: h("div", { class: "rs-form" },
				staff.field("r_title_request", cat), staff.field("r_field", fld),
				staff.field("r_content", content), staff.field("r_location", loc),
				staff.field("r_name", name), staff.field("r_phone", phone),
				h("label", { class: "rs-check" }, hide, h("span", { i18n: "r_hide" }))),
			confirmKey: "r_submit",
			run: async () => {
				const r = await staff.api("POST", "/api/v1/requests/window", {
					category: cat.value, field: fld.value, content: content.value.trim(),
					location: loc.value.trim(), name: name.value.trim(), phone: phone.value.trim(),
					hide_identity: hide.checked,
				});
				say({ key: "r_filed", vars: { n: r.request.number, c: r.request.lookup_code } },
					r.printed ? "ok" : "error");
				st.selected = null;
				await loadList();
				loadDetail(r.request.number, false);
				return true;
			},
		});
	}

	async function queueIt() {
		const key = $("rs-key").value.trim();
		const w = Number($("rs-window").value);
		const msg = $("rs-queue-msg");
		if (key === "" || !w) {
			staff.say(msg, { key: "r_lookup_key" });
			return;
		}
		try {
			const r = await staff.api("POST", "/api/v1/requests/queue-to-window",
				{ code: key, window_no: w });
			staff.say(msg, { key: "r_queued", vars: { n: r.ticket.number, w } }, "ok");
		} catch (e) {
			if (e.status !== 401) {
				staff.say(msg, staff.errMsg(e));
			}
		}
	}

	/* ================= wiring ================= */

	shell.onTile("request", () => open("request"));
	shell.onTile("progress", () => open("progress"));
	shell.onTile("rate", () => open("rate"));
	shell.onHome(close);
	shell.onRender(() => {
		render();
		if ($("sh-requests") && !$("sh-requests").hidden) {
			renderStaff();
		}
	});
	if (staff) {
		staff.addTab({ tab: "requests", key: "r_tab", roles: ["staff", "supervisor"],
			build: buildStaff, open: openStaff, render: renderStaff });
	}
	document.addEventListener("DOMContentLoaded", () => {
		document.querySelector("main").append(buildCitizen());
		window.addEventListener("hashchange", fromHash);
		setTimeout(fromHash, 0);
	});
})();
