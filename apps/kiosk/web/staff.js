/*
 * Staff screens of the kiosk: login (user id and PIN, with an on-screen
 * keypad), the staff home, and for supervisors user management and the
 * audit log. Everything is built here and added to the shell's page; the
 * shell (app.js) lends its strings, language and way home through
 * window.kioskShell.
 *
 * The one rule a reader needs: the server is the authority. The screens
 * only show what the session's role may use; every call still goes through
 * the server's checks, every state-changing call carries the CSRF token, and
 * any 401 drops back to the login screen. Walking away ends the session:
 * after idle_timeout_s without a touch or a key (30 s of warning first) the
 * screen logs out and returns to the citizen home.
 * Plain JS, no external resources, no inline script or style (CSP).
 */
"use strict";

(() => {
	const shell = window.kioskShell;

	Object.assign(shell.strings.zh, {
		s_entry: "工作人员登录",
		s_login_title: "工作人员登录",
		s_user: "工号",
		s_pin: "密码（PIN）",
		s_pin2: "再次输入密码",
		s_login: "登录",
		s_back: "返回首页",
		s_clear: "清除",
		s_del: "退格",
		s_keypad: "数字键盘",
		s_need_user: "请输入工号。",
		s_need_pin: "请输入密码。",
		s_expired: "登录已过期，请重新登录",
		s_locked: "连续输错次数过多，账户已锁定。请 {n} 分钟后再试，或请主管帮助。",
		s_no_service: "本机服务无响应，请稍后再试；如仍不行，请联系技术人员。",
		s_failed: "操作没有成功，请重试。",
		s_logged_in: "已登录：",
		s_logout: "退出登录",
		role_staff: "工作人员",
		role_supervisor: "主管",
		role_technician: "技术人员",
		role_citizen: "群众",
		role_system: "系统",
		s_users: "用户管理",
		s_audit: "审计日志",
		s_nodata: "无数据",
		s_intro_supervisor: "请选择要使用的功能：“工单”处理城市转来的工单，“统计”查看办理情况。",
		s_intro_staff: "请选择“工单”处理城市转来的工单，或选择“窗口叫号”开始叫号。",
		s_intro_technician:
			"请点“设备状态”查看显示屏、数据库、网络和设备证书。其他维护仍在设备命令行进行：hotline-edge admin help。",
		s_idle_title: "即将自动退出",
		s_idle_msg: "长时间没有操作，{n} 秒后将自动退出登录。",
		s_keep: "继续使用",
		s_add_user: "添加用户",
		s_name: "姓名",
		s_role: "角色",
		s_state: "状态",
		s_actions: "操作",
		s_active: "正常",
		s_disabled: "已停用",
		s_locked_until: "已锁定至 {t}",
		s_wrong_n: "输错 {n} 次",
		s_you: "（本人）",
		s_disable: "停用",
		s_enable: "启用",
		s_reset_pin: "重置密码",
		s_change_role: "更改角色",
		s_create: "创建",
		s_cancel: "取消",
		s_confirm: "确定",
		s_need_fields: "请填写工号、姓名和两次密码。",
		s_pin_mismatch: "两次输入的密码不一致，请重新输入。",
		s_created: "已添加用户 {id}。",
		s_saved: "已保存：{id}。",
		s_confirm_disable: "停用 {id}（{name}）？停用后该用户立即退出登录，重新启用前不能登录。",
		s_confirm_enable: "启用 {id}（{name}）？",
		s_confirm_reset: "为 {id}（{name}）设置新密码。该用户已登录的会话将全部失效。",
		s_confirm_role: "将 {id}（{name}）的角色改为：",
		s_no_users: "还没有用户。",
		s_actor: "操作人",
		s_action: "操作类型",
		s_outcome: "结果",
		s_from: "开始日期",
		s_to: "结束日期",
		s_all: "全部",
		s_act_auth: "登录与退出（auth.）",
		s_act_user: "用户管理（user.）",
		s_act_audit: "审计日志（audit.）",
		outcome_ok: "成功",
		outcome_denied: "拒绝",
		outcome_failed: "失败",
		outcome_locked: "已锁定",
		s_search: "查询",
		s_more: "更多",
		s_export: "导出 CSV",
		s_verify: "校验完整性",
		s_time: "时间",
		s_target: "对象",
		s_detail: "详情",
		s_no_entries: "没有符合条件的记录。",
		s_shown: "已显示 {n} 条，最新的在最前。",
		s_intact: "审计日志完整：共 {n} 条记录，链头为第 {id} 条。",
		s_broken: "审计日志在第 {id} 条处断开：{reason}。请立即报告主管和技术人员。",
	});
	Object.assign(shell.strings.en, {
		s_entry: "Staff login",
		s_login_title: "Staff login",
		s_user: "User ID",
		s_pin: "PIN",
		s_pin2: "PIN again",
		s_login: "Log in",
		s_back: "Back to home",
		s_clear: "Clear",
		s_del: "Delete",
		s_keypad: "Number keypad",
		s_need_user: "Please enter your user ID.",
		s_need_pin: "Please enter your PIN.",
		s_expired: "Your session has expired. Please log in again.",
		s_locked: "Too many wrong attempts: this account is locked. Try again in {n} min, or ask a supervisor.",
		s_no_service: "The appliance service is not responding. Try again shortly; if it persists, call a technician.",
		s_failed: "That did not work. Please try again.",
		s_logged_in: "Logged in: ",
		s_logout: "Log out",
		role_staff: "Staff",
		role_supervisor: "Supervisor",
		role_technician: "Technician",
		role_citizen: "Citizen",
		role_system: "System",
		s_users: "Users",
		s_audit: "Audit log",
		s_nodata: "no data",
		s_intro_supervisor: "Choose what to open: “Work orders” to handle the orders the city transfers, “Dashboard” for the figures.",
		s_intro_staff:
			"Open “Work orders” to handle the orders the city transfers, or “Window” to call tickets.",
		s_intro_technician:
			"Open “Device” for the display boards, database, network and device certificate. Other maintenance is still on the device's command line: hotline-edge admin help.",
		s_idle_title: "Logging out soon",
		s_idle_msg: "No activity for a while: you will be logged out in {n} s.",
		s_keep: "Keep working",
		s_add_user: "Add user",
		s_name: "Name",
		s_role: "Role",
		s_state: "State",
		s_actions: "Actions",
		s_active: "Active",
		s_disabled: "Disabled",
		s_locked_until: "Locked until {t}",
		s_wrong_n: "{n} wrong attempts",
		s_you: " (you)",
		s_disable: "Disable",
		s_enable: "Enable",
		s_reset_pin: "Reset PIN",
		s_change_role: "Change role",
		s_create: "Create",
		s_cancel: "Cancel",
		s_confirm: "Confirm",
		s_need_fields: "Please fill in user ID, name and the PIN twice.",
		s_pin_mismatch: "The two PINs differ. Please enter them again.",
		s_created: "User {id} added.",
		s_saved: "Saved: {id}.",
		s_confirm_disable: "Disable {id} ({name})? They are logged out at once and cannot log in until enabled again.",
		s_confirm_enable: "Enable {id} ({name})?",
		s_confirm_reset: "Set a new PIN for {id} ({name}). Any session they have ends.",
		s_confirm_role: "Change the role of {id} ({name}) to:",
		s_no_users: "There are no users yet.",
		s_actor: "Actor",
		s_action: "Action",
		s_outcome: "Outcome",
		s_from: "From",
		s_to: "To",
		s_all: "All",
		s_act_auth: "Login and logout (auth.)",
		s_act_user: "User management (user.)",
		s_act_audit: "Audit log (audit.)",
		outcome_ok: "OK",
		outcome_denied: "Denied",
		outcome_failed: "Failed",
		outcome_locked: "Locked",
		s_search: "Search",
		s_more: "More",
		s_export: "Export CSV",
		s_verify: "Verify chain",
		s_time: "Time",
		s_target: "Target",
		s_detail: "Detail",
		s_no_entries: "No entries match.",
		s_shown: "{n} shown, newest first.",
		s_intact: "The audit log is intact: {n} entries, the head is entry {id}.",
		s_broken: "The audit log is broken at entry {id}: {reason}. Report this to a supervisor and a technician now.",
	});

	const ROLES = ["staff", "supervisor", "technician"];
	const OUTCOMES = ["ok", "denied", "failed", "locked"];
	const ACTIONS = [["auth.", "s_act_auth"], ["user.", "s_act_user"], ["audit.", "s_act_audit"]];
	const WARN_MAX_MS = 30000;
	/* the screen logs out this much before the server's idle clock would */
	const IDLE_MARGIN_MS = 1000;
	const KEEPALIVE_MAX_MS = 60000;
	const AUDIT_PAGE = 50;

	let session = null; /* {user: {id, name, role}, csrf, idleMs} */
	let view = null; /* null (citizen screens), "login" or "home" */
	let tab = null; /* null, "users" or "audit" */
	let users = [];
	let audit = { entries: [], next: null, query: "", loaded: false };
	let lastActivity = 0;
	let lastContact = 0;
	let loginIdle = 0;
	let warnTimer = 0;
	let keepTimer = 0;
	let countdown = 0;
	/* pages other scripts add with kioskStaff.addTab: {tab, key, roles, build, open, render, close} */
	const extraTabs = [];

	const t = shell.t;

	function fmt(key, vars) {
		return String(t(key)).replace(/\{(\w+)\}/g, (m, k) =>
			vars && vars[k] !== undefined ? String(vars[k]) : m);
	}

	function $(id) {
		return document.getElementById(id);
	}

	/* h("button", {class: "x", i18n: "s_login"}, child...): a DOM node. */
	function h(tag, props, ...children) {
		const el = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === undefined || v === null || v === false) {
				continue;
			}
			if (k === "i18n") {
				el.dataset.i18n = v;
				el.textContent = t(v);
			} else if (k === "text") {
				el.textContent = v;
			} else if (k === "on") {
				for (const [ev, fn] of Object.entries(v)) {
					el.addEventListener(ev, fn);
				}
			} else if (k === "class") {
				el.className = v;
			} else if (k === "hidden") {
				el.hidden = true;
			} else {
				el.setAttribute(k, v === true ? "" : v);
			}
		}
		for (const c of children) {
			if (c !== null && c !== undefined && c !== false) {
				el.append(c);
			}
		}
		return el;
	}

	/*
	 * A sentence in a node that follows the language: {key, vars} for our
	 * own words, {zh, en} for the server's message_zh/message, null to clear.
	 */
	function say(el, m, kind) {
		if (!m) {
			delete el.dataset.say;
			el.textContent = "";
			el.hidden = true;
			return;
		}
		el.dataset.say = JSON.stringify(m);
		el.dataset.kind = kind || "error";
		el.hidden = false;
		sayText(el);
	}

	function sayText(el) {
		const m = JSON.parse(el.dataset.say);
		if (m.key) {
			el.textContent = fmt(m.key, m.vars);
		} else {
			el.textContent = (shell.lang() === "zh" ? m.zh : m.en) || m.zh || m.en || t("s_failed");
		}
	}

	const pad = shell.pad;

	function when(ms) {
		const d = new Date(ms);
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
			pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
	}

	function roleName(r) {
		const v = shell.strings[shell.lang()]["role_" + r];
		return v !== undefined ? v : String(r);
	}

	/* ---- talking to the server ---- */

	class ApiError extends Error {
		constructor(status, body) {
			const e = body && body.error ? body.error : {};
			super(e.message || "HTTP " + status);
			this.status = status;
			this.code = e.code || (status === 0 ? "network" : "http_" + status);
			this.zh = e.message_zh || "";
			this.en = e.message || "";
			const retry = e.retry_after_s !== undefined ? e.retry_after_s :
				body ? body.retry_after_s : undefined;
			this.retryAfter = typeof retry === "number" ? retry : null;
		}
	}

	/* The words for an error: the server's own, or ours when it said none. */
	function errMsg(e) {
		if (e.status === 0) {
			return { key: "s_no_service" };
		}
		if (e.code === "locked") {
			return { key: "s_locked", vars: { n: Math.max(1, Math.ceil((e.retryAfter || 60) / 60)) } };
		}
		if (e.zh || e.en) {
			return { zh: e.zh, en: e.en };
		}
		return { key: "s_failed" };
	}

	/*
	 * One API call. JSON in and out; the CSRF token on every state-changing
	 * method. A 401 on anything but the login itself means the session is
	 * gone: back to the login screen, and the caller's promise rejects.
	 */
	async function api(method, path, body) {
		const opt = { method, headers: {}, cache: "no-store", credentials: "same-origin" };
		if (body instanceof Blob) {
			/* a file sent as it is (an attachment), typed by the browser */
			opt.headers["Content-Type"] = body.type || "application/octet-stream";
			opt.body = body;
		} else if (body !== undefined) {
			opt.headers["Content-Type"] = "application/json";
			opt.body = JSON.stringify(body);
		}
		if (method !== "GET" && session) {
			opt.headers["X-CSRF-Token"] = session.csrf;
		}
		let r;
		try {
			r = await fetch(path, opt);
		} catch (e) {
			throw new ApiError(0, null);
		}
		let data = null;
		if (r.status !== 204) {
			try {
				data = await r.json();
			} catch (e) {
				data = null;
			}
		}
		if (!r.ok) {
			const err = new ApiError(r.status, data);
			if (r.status === 401 && path !== "/api/v1/auth/login" && session) {
				expired();
			}
			throw err;
		}
		lastContact = Date.now();
		return data;
	}

	/* ---- screens ---- */

	function keypad(target) {
		const press = (k) => {
			const input = target();
			if (!input) {
				return;
			}
			if (k === "clear") {
				input.value = "";
			} else if (k === "del") {
				input.value = input.value.slice(0, -1);
			} else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) {
				input.value += k;
			}
			input.dispatchEvent(new Event("input", { bubbles: true }));
		};
		const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "del"];
		return h("div", { class: "keypad", role: "group", "aria-label": t("s_keypad") },
			...keys.map((k) => h("button", {
				type: "button",
				class: "key key-" + (/\d/.test(k) ? "digit" : k),
				"data-key": k,
				i18n: k === "clear" ? "s_clear" : k === "del" ? "s_del" : undefined,
				text: /\d/.test(k) ? k : undefined,
				on: { click: () => press(k) },
			})));
	}

	/* Inputs a keypad types into: the last one of the group that had focus. */
	function keypadTarget(inputs) {
		let last = inputs[0];
		for (const i of inputs) {
			i.addEventListener("focus", () => {
				last = i;
				for (const j of inputs) {
					j.classList.toggle("kp-target", j === i);
				}
			});
		}
		inputs[0].classList.add("kp-target");
		return {
			get: () => last,
			set: (i) => {
				last = i;
				for (const j of inputs) {
					j.classList.toggle("kp-target", j === i);
				}
			},
		};
	}

	function field(labelKey, input) {
		return h("label", { class: "s-field" }, h("span", { i18n: labelKey }), input);
	}

	function pinInput(id) {
		return h("input", {
			id, type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "32",
			class: "s-input s-pin",
		});
	}

	function roleChoice(name, checked) {
		return h("div", { class: "s-roles", role: "radiogroup" }, ...ROLES.map((r) =>
			h("label", { class: "s-role" },
				h("input", { type: "radio", name, value: r, checked: r === checked }),
				h("span", { i18n: "role_" + r }))));
	}

	let loginPad = null;

	function buildLogin() {
		const user = h("input", {
			id: "sl-user", class: "s-input", type: "text", autocomplete: "off",
			autocapitalize: "off", spellcheck: "false", maxlength: "32",
		});
		const pin = pinInput("sl-pin");
		loginPad = keypadTarget([user, pin]);
		const form = h("form", { id: "sl-form", class: "sl-fields", novalidate: true },
			field("s_user", user),
			field("s_pin", pin),
			h("p", { id: "sl-msg", class: "s-msg", role: "alert", hidden: true }),
			h("div", { class: "s-row" },
				h("button", { id: "sl-submit", type: "submit", class: "s-primary", i18n: "s_login" }),
				h("button", { id: "sl-back", type: "button", class: "s-secondary", i18n: "s_back",
					on: { click: () => leave(false) } })));
		form.addEventListener("submit", (e) => {
			e.preventDefault();
			login();
		});
		return h("section", { id: "staff-login", class: "staff", hidden: true },
			h("h2", { i18n: "s_login_title" }),
			h("div", { class: "sl-grid" }, form, keypad(() => loginPad.get())));
	}

	function buildHome() {
		const tabButton = (x) => h("button", { type: "button", class: "sh-tab",
			"data-tab": x.tab, i18n: x.key, on: { click: () => openTab(x.tab) } });
		return h("section", { id: "staff-home", class: "staff", hidden: true },
			h("div", { class: "sh-bar" },
				h("span", { class: "sh-who" },
					h("span", { i18n: "s_logged_in" }),
					h("strong", { id: "sh-name" }),
					h("span", { id: "sh-role", class: "sh-role" })),
				h("button", { id: "sh-logout", type: "button", class: "s-secondary", i18n: "s_logout",
					on: { click: () => logout(false) } })),
			h("nav", { id: "sh-nav", class: "sh-nav", hidden: true },
				...extraTabs.filter((x) => x.first).map(tabButton),
				h("button", { type: "button", class: "sh-tab", "data-tab": "users", i18n: "s_users",
					on: { click: () => openTab("users") } }),
				h("button", { type: "button", class: "sh-tab", "data-tab": "audit", i18n: "s_audit",
					on: { click: () => openTab("audit") } }),
				...extraTabs.filter((x) => !x.first).map(tabButton)),
			h("p", { id: "sh-intro", class: "sh-intro" }),
			buildUsers(),
			buildAudit(),
			...extraTabs.map((x) => x.build()));
	}

	/* ---- user management ---- */

	let addPad = null;

	function buildUsers() {
		const pin = pinInput("su-pin");
		const pin2 = pinInput("su-pin2");
		addPad = keypadTarget([pin, pin2]);
		const form = h("form", { id: "su-form", class: "s-card", novalidate: true, hidden: true },
			h("h3", { i18n: "s_add_user" }),
			h("div", { class: "su-grid" },
				h("div", { class: "su-fields" },
					field("s_user", h("input", { id: "su-id", class: "s-input", type: "text",
						autocomplete: "off", autocapitalize: "off", spellcheck: "false",
						maxlength: "32" })),
					field("s_name", h("input", { id: "su-name", class: "s-input", type: "text",
						autocomplete: "off", maxlength: "64" })),
					h("div", { class: "s-field" }, h("span", { i18n: "s_role" }),
						roleChoice("su-role", "staff")),
					field("s_pin", pin),
					field("s_pin2", pin2)),
				keypad(() => addPad.get())),
			h("p", { id: "su-form-msg", class: "s-msg", role: "alert", hidden: true }),
			h("div", { class: "s-row" },
				h("button", { id: "su-create", type: "submit", class: "s-primary", i18n: "s_create" }),
				h("button", { type: "button", class: "s-secondary", i18n: "s_cancel",
					on: { click: () => showAddForm(false) } })));
		form.addEventListener("submit", (e) => {
			e.preventDefault();
			addUser();
		});
		return h("div", { id: "sh-users", class: "sh-section", hidden: true },
			h("div", { class: "s-row" },
				h("button", { id: "su-add", type: "button", class: "s-primary", i18n: "s_add_user",
					on: { click: () => showAddForm(true) } })),
			form,
			h("p", { id: "su-msg", class: "s-msg", role: "status", hidden: true }),
			h("table", { class: "s-table", id: "su-table" },
				h("thead", {}, h("tr", {},
					h("th", { i18n: "s_user" }), h("th", { i18n: "s_name" }),
					h("th", { i18n: "s_role" }), h("th", { i18n: "s_state" }),
					h("th", { i18n: "s_actions" }))),
				h("tbody", { id: "su-rows" })));
	}

	function showAddForm(on) {
		const form = $("su-form");
		form.reset();
		say($("su-form-msg"), null);
		form.hidden = !on;
		$("su-add").hidden = on;
		addPad.set($("su-pin"));
		if (on) {
			$("su-id").focus();
		}
	}

	async function loadUsers() {
		try {
			const data = await api("GET", "/api/v1/users");
			users = Array.isArray(data.users) ? data.users : [];
			renderUsers();
		} catch (e) {
			if (e.status !== 401) {
				say($("su-msg"), errMsg(e));
			}
		}
	}

	function renderUsers() {
		const body = $("su-rows");
		body.replaceChildren();
		if (users.length === 0) {
			body.append(h("tr", {}, h("td", { colspan: "5", text: t("s_no_users") })));
			return;
		}
		const now = Date.now();
		for (const u of users) {
			const self = session && u.id === session.user.id;
			const states = [];
			if (u.disabled) {
				states.push(t("s_disabled"));
			} else if (u.locked_until_ms && u.locked_until_ms > now) {
				states.push(fmt("s_locked_until", { t: when(u.locked_until_ms).slice(11, 16) }));
			} else {
				states.push(t("s_active"));
			}
			if (u.failed_count > 0) {
				states.push(fmt("s_wrong_n", { n: u.failed_count }));
			}
			const act = (key, name, fn) => h("button", {
				type: "button", class: "s-small", "data-act": name, i18n: key,
				on: { click: () => fn(u) },
			});
			body.append(h("tr", { "data-user": u.id, class: u.disabled ? "is-disabled" : undefined },
				h("td", { text: u.id + (self ? t("s_you") : "") }),
				h("td", { text: u.name }),
				h("td", { text: roleName(u.role) }),
				h("td", { text: states.join(" · ") }),
				h("td", { class: "s-acts" },
					self ? null : u.disabled ? act("s_enable", "enable", enableUser) :
						act("s_disable", "disable", disableUser),
					act("s_reset_pin", "reset-pin", resetPin),
					self ? null : act("s_change_role", "role", changeRole))));
		}
	}

	/* Two PIN fields that must agree; returns the PIN or null after saying why. */
	function pinsOf(a, b, msgEl) {
		if (a.value === "" || b.value === "") {
			say(msgEl, { key: "s_need_pin" });
			return null;
		}
		if (a.value !== b.value) {
			say(msgEl, { key: "s_pin_mismatch" });
			a.value = "";
			b.value = "";
			return null;
		}
		return a.value;
	}

	async function addUser() {
		const msg = $("su-form-msg");
		const id = $("su-id").value.trim();
		const name = $("su-name").value.trim();
		const role = $("su-form").querySelector("input[name=su-role]:checked").value;
		say(msg, null);
		if (id === "" || name === "") {
			say(msg, { key: "s_need_fields" });
			return;
		}
		const pin = pinsOf($("su-pin"), $("su-pin2"), msg);
		if (pin === null) {
			addPad.set($("su-pin"));
			return;
		}
		const btn = $("su-create");
		btn.disabled = true;
		try {
			await api("POST", "/api/v1/users", { id, name, role, pin });
			showAddForm(false);
			say($("su-msg"), { key: "s_created", vars: { id } }, "ok");
			await loadUsers();
		} catch (e) {
			if (e.status !== 401) {
				say(msg, errMsg(e));
			}
		} finally {
			btn.disabled = false;
		}
	}

	/* A state-changing call on one user, then the list again. */
	async function userCall(u, what, body) {
		await api("POST", "/api/v1/users/" + encodeURIComponent(u.id) + "/" + what, body || {});
		say($("su-msg"), { key: "s_saved", vars: { id: u.id } }, "ok");
		loadUsers();
	}

	function disableUser(u) {
		dialog({
			text: { key: "s_confirm_disable", vars: { id: u.id, name: u.name } },
			confirmKey: "s_disable",
			danger: true,
			run: () => userCall(u, "disable"),
		});
	}

	function enableUser(u) {
		dialog({
			text: { key: "s_confirm_enable", vars: { id: u.id, name: u.name } },
			confirmKey: "s_enable",
			run: () => userCall(u, "enable"),
		});
	}

	function resetPin(u) {
		const a = pinInput("sd-pin");
		const b = pinInput("sd-pin2");
		const pad = keypadTarget([a, b]);
		dialog({
			text: { key: "s_confirm_reset", vars: { id: u.id, name: u.name } },
			body: h("div", { class: "su-grid" },
				h("div", { class: "su-fields" }, field("s_pin", a), field("s_pin2", b)),
				keypad(() => pad.get())),
			confirmKey: "s_reset_pin",
			danger: true,
			run: (msgEl) => {
				const pin = pinsOf(a, b, msgEl);
				if (pin === null) {
					pad.set(a);
					return false;
				}
				return userCall(u, "reset-pin", { pin });
			},
		});
	}

	function changeRole(u) {
		const choice = roleChoice("sd-role", u.role);
		dialog({
			text: { key: "s_confirm_role", vars: { id: u.id, name: u.name } },
			body: choice,
			confirmKey: "s_change_role",
			danger: true,
			run: () => userCall(u, "role",
				{ role: choice.querySelector("input:checked").value }),
		});
	}

	/*
	 * A confirmation box. run(msgEl) may return false (stay open, it said
	 * why) or a promise; a rejected promise's error is shown in the box.
	 */
	function dialog(spec) {
		const msg = h("p", { class: "s-msg", role: "alert", hidden: true });
		const text = h("p", { class: "sd-text" });
		say(text, spec.text, "text");
		const ok = h("button", { id: "sd-confirm", type: "button", i18n: spec.confirmKey,
			class: spec.danger ? "s-danger" : "s-primary" });
		const box = h("div", { class: "s-dialog", role: "dialog", "aria-modal": "true" },
			text, spec.body || null, msg,
			h("div", { class: "s-row" }, ok,
				h("button", { id: "sd-cancel", type: "button", class: "s-secondary",
					i18n: "s_cancel", on: { click: () => closeDialog() } })));
		ok.addEventListener("click", async () => {
			ok.disabled = true;
			try {
				const r = await spec.run(msg);
				if (r !== false) {
					closeDialog();
				}
			} catch (e) {
				if (e.status !== 401) {
					say(msg, errMsg(e));
				}
			} finally {
				ok.disabled = false;
			}
		});
		const layer = $("staff-dialog");
		layer.replaceChildren(box);
		layer.hidden = false;
	}

	function closeDialog() {
		const layer = $("staff-dialog");
		layer.hidden = true;
		layer.replaceChildren();
	}

	/* ---- audit log ---- */

	function buildAudit() {
		const sel = (id, opts) => h("select", { id, class: "s-input" },
			h("option", { value: "", i18n: "s_all" }),
			...opts.map(([v, key]) => h("option", { value: v, i18n: key })));
		const form = h("form", { id: "sa-form", class: "sa-filters", novalidate: true },
			field("s_actor", h("input", { id: "sa-actor", class: "s-input", type: "text",
				autocomplete: "off", autocapitalize: "off", spellcheck: "false", maxlength: "32" })),
			field("s_action", sel("sa-action", ACTIONS)),
			field("s_outcome", sel("sa-outcome", OUTCOMES.map((o) => [o, "outcome_" + o]))),
			field("s_from", h("input", { id: "sa-from", class: "s-input", type: "date" })),
			field("s_to", h("input", { id: "sa-to", class: "s-input", type: "date" })));
		form.addEventListener("submit", (e) => {
			e.preventDefault();
			searchAudit();
		});
		return h("div", { id: "sh-audit", class: "sh-section", hidden: true },
			form,
			h("div", { class: "s-row" },
				h("button", { id: "sa-search", type: "submit", form: "sa-form", class: "s-primary",
					i18n: "s_search" }),
				h("a", { id: "sa-export", class: "s-button s-secondary", href: "/api/v1/audit/export",
					download: true, i18n: "s_export" }),
				h("button", { id: "sa-verify", type: "button", class: "s-secondary", i18n: "s_verify",
					on: { click: verifyAudit } })),
			h("p", { id: "sa-verify-msg", class: "s-msg", role: "status", hidden: true }),
			h("p", { id: "sa-msg", class: "s-msg", role: "status", hidden: true }),
			h("table", { class: "s-table sa-table", id: "sa-table" },
				h("thead", {}, h("tr", {},
					h("th", { i18n: "s_time" }), h("th", { i18n: "s_actor" }),
					h("th", { i18n: "s_action" }), h("th", { i18n: "s_target" }),
					h("th", { i18n: "s_outcome" }), h("th", { i18n: "s_detail" }))),
				h("tbody", { id: "sa-rows" })),
			h("button", { id: "sa-more", type: "button", class: "s-secondary", i18n: "s_more",
				hidden: true, on: { click: () => fetchAudit(true) } }));
	}

	/* The filters as a query string (without limit or paging). */
	function auditQuery() {
		const q = new URLSearchParams();
		const actor = $("sa-actor").value.trim();
		if (actor !== "") {
			q.set("actor", actor);
		}
		for (const [id, key] of [["sa-action", "action"], ["sa-outcome", "outcome"]]) {
			if ($(id).value !== "") {
				q.set(key, $(id).value);
			}
		}
		/* dates are local days: from its first to the last millisecond of "to" */
		const from = $("sa-from").value;
		const to = $("sa-to").value;
		if (from !== "") {
			q.set("from_ms", String(new Date(from + "T00:00:00").getTime()));
		}
		if (to !== "") {
			const end = new Date(to + "T00:00:00");
			end.setDate(end.getDate() + 1);
			q.set("to_ms", String(end.getTime() - 1));
		}
		return q.toString();
	}

	function searchAudit() {
		audit = { entries: [], next: null, query: auditQuery(), loaded: false };
		$("sa-export").href = "/api/v1/audit/export" + (audit.query ? "?" + audit.query : "");
		say($("sa-msg"), null);
		return fetchAudit(false);
	}

	async function fetchAudit(more) {
		const q = new URLSearchParams(audit.query);
		q.set("limit", String(AUDIT_PAGE));
		if (more && audit.next !== null) {
			q.set("before_id", String(audit.next));
		}
		const btn = more ? $("sa-more") : $("sa-search");
		btn.disabled = true;
		try {
			const data = await api("GET", "/api/v1/audit?" + q.toString());
			const got = Array.isArray(data.entries) ? data.entries : [];
			audit.entries = more ? audit.entries.concat(got) : got;
			audit.next = data.next_before_id === undefined ? null : data.next_before_id;
			audit.loaded = true;
			renderAudit();
		} catch (e) {
			if (e.status !== 401) {
				say($("sa-msg"), errMsg(e));
			}
		} finally {
			btn.disabled = false;
		}
	}

	function outcomeName(o) {
		const v = shell.strings[shell.lang()]["outcome_" + o];
		return v !== undefined ? v : String(o);
	}

	function renderAudit() {
		const body = $("sa-rows");
		body.replaceChildren();
		for (const e of audit.entries) {
			const detail = e.detail === null || e.detail === undefined ? "" :
				typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail);
			body.append(h("tr", { "data-id": String(e.id), "data-outcome": String(e.outcome) },
				h("td", { class: "sa-time", text: when(e.wall_ms) }),
				h("td", { text: e.actor + (e.role ? " · " + roleName(e.role) : "") }),
				h("td", { class: "sa-action", text: e.action }),
				h("td", { text: e.target || "" }),
				h("td", { class: "sa-outcome", text: outcomeName(e.outcome) }),
				h("td", { class: "sa-detail", text: detail })));
		}
		if (audit.loaded) {
			say($("sa-msg"), audit.entries.length === 0 ? { key: "s_no_entries" } :
				{ key: "s_shown", vars: { n: audit.entries.length } }, "text");
		}
		$("sa-more").hidden = audit.next === null;
	}

	async function verifyAudit() {
		const btn = $("sa-verify");
		const out = $("sa-verify-msg");
		btn.disabled = true;
		say(out, null);
		try {
			const r = await api("GET", "/api/v1/audit/verify");
			if (r.intact) {
				say(out, { key: "s_intact", vars: { n: r.entries, id: r.head_id } }, "ok");
			} else {
				say(out, { key: "s_broken", vars: { id: r.first_bad, reason: r.reason || "" } });
			}
			out.dataset.intact = r.intact ? "true" : "false";
		} catch (e) {
			if (e.status !== 401) {
				say(out, errMsg(e));
			}
		} finally {
			btn.disabled = false;
		}
	}

	/* ---- charts (SVG drawn by hand; the queue and work-order figures) ---- */

	const SVG_NS = "http://www.w3.org/2000/svg";

	function svg(tag, attrs, ...children) {
		const el = document.createElementNS(SVG_NS, tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			el.setAttribute(k, String(v));
		}
		for (const c of children) {
			if (typeof c === "string") {
				el.append(document.createTextNode(c));
			} else if (c) {
				el.append(c);
			}
		}
		return el;
	}

	/*
	 * A horizontal bar chart: one row per item, one bar per series, the
	 * value written at the bar's end. rows: [{label, values: [..], note}];
	 * series: [{key, cls}]; show(v) formats a value.
	 */
	function barChart(id, titleKey, rows, series, show) {
		const LABEL_W = 220;
		const BAR_W = 520;
		const BAR_H = 22;
		const GAP = 6;
		const ROW_H = series.length * (BAR_H + 4) + GAP * 2;
		const max = Math.max(1e-9, ...rows.flatMap((r) => r.values.map((v) => v || 0)));
		const height = rows.length * ROW_H + 36;
		const width = LABEL_W + BAR_W + 120;
		const chart = svg("svg", { id, class: "s-chart", viewBox: `0 0 ${width} ${height}`,
			role: "img", "aria-label": t(titleKey) });
		rows.forEach((r, i) => {
			const y0 = i * ROW_H + GAP;
			chart.append(svg("text", { x: LABEL_W - 12, y: y0 + ROW_H / 2, class: "s-chart-label",
				"text-anchor": "end", "dominant-baseline": "middle" }, r.label));
			series.forEach((s, j) => {
				const v = r.values[j];
				const y = y0 + j * (BAR_H + 4);
				if (v === null || v === undefined) {
					chart.append(svg("text", { x: LABEL_W + 8, y: y + BAR_H / 2,
						class: "s-chart-value s-nodata", "dominant-baseline": "middle" },
					t("s_nodata")));
					return;
				}
				const w = Math.max(2, Math.round(v / max * BAR_W));
				chart.append(svg("rect", { x: LABEL_W, y, width: w, height: BAR_H, rx: 3,
					class: "s-bar " + s.cls }),
				svg("text", { x: LABEL_W + w + 8, y: y + BAR_H / 2, class: "s-chart-value",
					"dominant-baseline": "middle" }, show(v)));
			});
		});
		const ly = rows.length * ROW_H + 20;
		series.forEach((s, j) => {
			const x = LABEL_W + j * 200;
			chart.append(svg("rect", { x, y: ly - 8, width: 16, height: 16, class: "s-bar " + s.cls }),
				svg("text", { x: x + 24, y: ly, class: "s-chart-legend", "dominant-baseline": "middle" },
					t(s.key)));
		});
		return h("figure", { class: "s-card s-figure" }, h("figcaption", { i18n: titleKey }), chart);
	}

	/* ---- moving between screens ---- */

	function showOnly(id) {
		for (const s of document.querySelectorAll("main > section")) {
			s.hidden = s.id !== id;
		}
		$("staff-entry").hidden = true;
	}

	function showLogin(m) {
		closeExtra();
		view = "login";
		shell.holdIdle(true);
		stopIdle();
		closeDialog();
		showOnly("staff-login");
		$("sl-form").reset();
		say($("sl-msg"), m || null);
		loginPad.set($("sl-user"));
		$("sl-user").focus();
		activity();
	}

	/* Back to the citizen screens; reset: also back to Chinese (walk-away). */
	function leave(reset) {
		closeExtra();
		view = null;
		tab = null;
		session = null;
		users = [];
		audit = { entries: [], next: null, query: "", loaded: false };
		stopIdle();
		clearTimeout(loginIdle);
		closeDialog();
		$("staff-login").hidden = true;
		$("staff-home").hidden = true;
		$("staff-entry").hidden = false;
		shell.holdIdle(false);
		if (reset) {
			shell.resetHome();
		} else {
			shell.showHome();
		}
	}

	async function login() {
		const user = $("sl-user").value.trim();
		const pin = $("sl-pin").value;
		const msg = $("sl-msg");
		if (user === "") {
			say(msg, { key: "s_need_user" });
			loginPad.set($("sl-user"));
			return;
		}
		if (pin === "") {
			say(msg, { key: "s_need_pin" });
			loginPad.set($("sl-pin"));
			return;
		}
		const btn = $("sl-submit");
		btn.disabled = true;
		try {
			const r = await api("POST", "/api/v1/auth/login", { user, pin });
			enter(r);
		} catch (e) {
			$("sl-pin").value = "";
			loginPad.set($("sl-pin"));
			say(msg, errMsg(e));
		} finally {
			btn.disabled = false;
		}
	}

	function enter(r) {
		session = {
			user: r.user,
			csrf: r.csrf,
			idleMs: Math.max(5, Number(r.idle_timeout_s) || 300) * 1000,
		};
		view = "home";
		tab = null;
		clearTimeout(loginIdle);
		showOnly("staff-home");
		let any = false;
		for (const b of document.querySelectorAll(".sh-tab")) {
			b.hidden = !mayOpen(b.dataset.tab);
			any = any || !b.hidden;
		}
		$("sh-nav").hidden = !any;
		for (const x of ["users", "audit"].concat(extraTabs.map((e) => e.tab))) {
			$("sh-" + x).hidden = true;
		}
		renderHome();
		/* A page that asked to be the first (the work orders) opens at once. */
		const first = extraTabs.find((x) => x.first && mayOpen(x.tab));
		if (first) {
			openTab(first.tab);
		}
		activity();
	}

	function renderHome() {
		if (!session) {
			return;
		}
		$("sh-name").textContent = session.user.name || session.user.id;
		$("sh-role").textContent = roleName(session.user.role);
		const key = "s_intro_" + session.user.role;
		const intro = $("sh-intro");
		intro.hidden = tab !== null;
		intro.textContent = shell.strings[shell.lang()][key] !== undefined ? t(key) : "";
		for (const b of document.querySelectorAll(".sh-tab")) {
			b.classList.toggle("is-open", b.dataset.tab === tab);
		}
	}

	function extraTab(which) {
		return extraTabs.find((x) => x.tab === which) || null;
	}

	function mayOpen(which) {
		const x = extraTab(which);
		const roles = x ? x.roles : ["supervisor"];
		return session !== null && roles.includes(session.user.role);
	}

	/* An added page that is being left gets to stop its timers. */
	function closeExtra() {
		const x = extraTab(tab);
		if (x && x.close) {
			x.close();
		}
	}

	function openTab(which) {
		if (!mayOpen(which)) {
			return;
		}
		closeExtra();
		tab = which;
		for (const x of ["users", "audit"].concat(extraTabs.map((e) => e.tab))) {
			$("sh-" + x).hidden = which !== x;
		}
		renderHome();
		const x = extraTab(which);
		if (x) {
			x.open();
		} else if (which === "users") {
			showAddForm(false);
			say($("su-msg"), null);
			loadUsers();
		} else {
			say($("sa-verify-msg"), null);
			searchAudit();
		}
	}

	async function logout(walkedAway) {
		const s = session;
		stopIdle();
		if (s) {
			try {
				await fetch("/api/v1/auth/logout", {
					method: "POST", cache: "no-store", credentials: "same-origin",
					headers: { "X-CSRF-Token": s.csrf },
				});
			} catch (e) {
				/* the server ends the session on its own idle clock anyway */
			}
		}
		leave(walkedAway);
	}

	function expired() {
		session = null;
		showLogin({ key: "s_expired" });
	}

	/* ---- walking away ---- */

	function stopIdle() {
		clearTimeout(warnTimer);
		clearTimeout(keepTimer);
		clearInterval(countdown);
		warnTimer = 0;
		keepTimer = 0;
		countdown = 0;
		$("staff-idle").hidden = true;
	}

	/* How long after the last touch the screen logs out. */
	function idleMs() {
		return Math.max(session.idleMs - IDLE_MARGIN_MS, 2000);
	}

	function warnMs() {
		return Math.min(WARN_MAX_MS, Math.floor(idleMs() / 2));
	}

	/*
	 * Touches do not reach the server, so tell it: at most every third of
	 * the idle time, and once more after the last touch of a busy spell,
	 * so the server's idle clock never runs out before the screen's.
	 */
	function keepAlive() {
		const gap = Math.min(KEEPALIVE_MAX_MS, session.idleMs / 3);
		const wait = lastContact + gap - Date.now();
		if (wait > 0) {
			if (!keepTimer) {
				keepTimer = setTimeout(() => {
					keepTimer = 0;
					if (session && lastActivity > lastContact) {
						keepAlive();
					}
				}, wait);
			}
			return;
		}
		lastContact = Date.now();
		api("GET", "/api/v1/auth/me").then((r) => {
			if (session && r && r.csrf) {
				session.csrf = r.csrf;
			}
		}).catch(() => {
			/* a 401 has already moved to the login screen */
		});
	}

	/* A touch or a key: restart the countdowns. */
	function activity() {
		lastActivity = Date.now();
		if (view === "login") {
			clearTimeout(loginIdle);
			loginIdle = setTimeout(() => leave(true), shell.IDLE_HOME_MS);
			return;
		}
		if (view !== "home" || !session) {
			return;
		}
		clearTimeout(warnTimer);
		clearInterval(countdown);
		countdown = 0;
		$("staff-idle").hidden = true;
		warnTimer = setTimeout(warn, idleMs() - warnMs());
		keepAlive();
	}

	function warn() {
		if (!session) {
			return;
		}
		const deadline = lastActivity + idleMs();
		const layer = $("staff-idle");
		const tickDown = () => {
			const left = Math.ceil((deadline - Date.now()) / 1000);
			if (left <= 0) {
				logout(true);
				return;
			}
			say($("si-msg"), { key: "s_idle_msg", vars: { n: left } }, "text");
		};
		layer.hidden = false;
		tickDown();
		countdown = setInterval(tickDown, 250);
	}

	/* ---- start ---- */

	shell.onRender(() => {
		for (const el of document.querySelectorAll("[data-say]")) {
			sayText(el);
		}
		for (const el of document.querySelectorAll(".keypad")) {
			el.setAttribute("aria-label", t("s_keypad"));
		}
		if (!$("staff-home")) {
			return;
		}
		renderHome();
		if (tab === "users") {
			renderUsers();
		} else if (tab === "audit") {
			renderAudit();
		} else if (extraTab(tab) && extraTab(tab).render) {
			extraTab(tab).render();
		}
	});

	/*
	 * What pages added by other scripts may use. addTab({tab, key, roles,
	 * build, open, render, close, first}) before DOMContentLoaded: build()
	 * returns the page's hidden section with id "sh-" + tab; open() runs when
	 * its tab is chosen, render() after a language switch, close() when it is
	 * left; the first page with first: true the user may open is opened at
	 * login. shell, t and $ are there so a page needs only this one object.
	 */
	window.kioskStaff = {
		addTab: (spec) => extraTabs.push(spec),
		shell,
		t,
		$,
		api,
		h,
		say,
		errMsg,
		fmt,
		field,
		dialog,
		closeDialog,
		svg,
		barChart,
		when,
		user: () => (session ? session.user : null),
	};

	document.addEventListener("DOMContentLoaded", () => {
		const main = document.querySelector("main");
		main.append(buildLogin(), buildHome());
		document.body.append(
			h("div", { id: "staff-dialog", class: "s-layer", hidden: true }),
			h("div", { id: "staff-idle", class: "s-layer", hidden: true },
				h("div", { class: "s-dialog", role: "alertdialog", "aria-modal": "true" },
					h("h3", { i18n: "s_idle_title" }),
					h("p", { id: "si-msg", class: "sd-text", hidden: true }),
					h("button", { id: "si-keep", type: "button", class: "s-primary", i18n: "s_keep",
						on: { click: activity } }))));
		document.querySelector("footer").append(h("button", {
			id: "staff-entry", type: "button", class: "staff-entry", i18n: "s_entry",
			on: { click: () => showLogin(null) },
		}));
		/* "Keep working" is a touch like any other: activity() hides the warning. */
		document.addEventListener("pointerdown", activity, true);
		document.addEventListener("keydown", activity, true);
	});
})();
