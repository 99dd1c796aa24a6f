/*
 * Kiosk shell: the citizen home screen. Chinese first, English on request;
 * status strip fed by /api/v1/health; each entry opens the screen another
 * script registered for it (kioskShell.onTile), or, when none did (a script
 * that failed to load), a panel that says plainly the function is missing.
 * Plain JS, no external resources (the server sends CSP default-src 'self').
 */
"use strict";

const I18N = {
	zh: {
		hotline: "12345 政务服务便民热线",
		office_default: "受理服务点",
		welcome: "您好，请选择要办理的事项",
		ticket: "取号",
		ticket_sub: "到窗口办事，先取排队号",
		request: "我要办事",
		request_sub: "提交诉求、咨询、投诉、建议",
		progress: "进度查询",
		progress_sub: "查看已提交诉求的办理进度",
		rate: "服务评价",
		rate_sub: "对本次服务进行评价",
		not_installed: "本设备当前的固件版本尚未安装这项功能。",
		not_installed_help: "请到服务窗口咨询工作人员，或拨打 12345 热线。",
		back: "返回首页",
		lang_button: "English",
		uplink: "政务外网",
		database: "本机数据",
		colon: "：",
		"uplink.up": "链路正常",
		"uplink.down": "链路断开，业务照常办理，恢复后数据自动上传",
		"uplink.off": "未启用，业务照常办理",
		"database.ok": "正常",
		"database.recovered": "原数据文件损坏已封存，现用新数据文件运行，请联系技术人员",
		"database.closed": "不可用，请联系技术人员",
		unknown: "状态未知",
		no_service: "本机服务无响应，请联系工作人员",
		firmware: "固件",
		weekdays: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
	},
	en: {
		hotline: "12345 Government Service Hotline",
		office_default: "Service point",
		welcome: "Welcome. Please choose a service.",
		ticket: "Take a ticket",
		ticket_sub: "Queue for a service window",
		request: "File a request",
		request_sub: "Requests, questions, complaints, suggestions",
		progress: "Check progress",
		progress_sub: "See how your request is being handled",
		rate: "Rate the service",
		rate_sub: "Tell us how we did today",
		not_installed: "This function is not installed in this device's firmware version yet.",
		not_installed_help: "Please ask the staff at a service window, or call the 12345 hotline.",
		back: "Back to home",
		lang_button: "中文",
		uplink: "Extranet link",
		database: "Local data",
		colon: ": ",
		"uplink.up": "up",
		"uplink.down": "down; service goes on and data is sent when the link is back",
		"uplink.off": "not in use; service goes on",
		"database.ok": "OK",
		"database.recovered": "a damaged data file was kept aside and a new one is in use; please call a technician",
		"database.closed": "unavailable, please call a technician",
		unknown: "state unknown",
		no_service: "The appliance service is not responding; please ask the staff",
		firmware: "Firmware",
		weekdays: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
	},
};

const STATE_CLASS = {
	"uplink.up": "ok", "uplink.down": "warn", "uplink.off": "warn",
	"database.ok": "ok", "database.recovered": "warn", "database.closed": "bad",
};

const HEALTH_PERIOD_MS = 10000;
const IDLE_HOME_MS = 60000;

let lang = "zh";
let health = null; /* last good answer, or null when the service did not answer */
let openFunc = null;
let idleTimer = 0;
let idleHeld = false; /* a screen added by another script runs its own idle rule */
const renderHooks = [];
const homeHooks = [];
const tileOpeners = {}; /* data-func -> the screen another script provides for that tile */

function t(key) {
	const v = I18N[lang][key];
	return v !== undefined ? v : key;
}

function $(id) {
	return document.getElementById(id);
}

/* A state may come as "up" or as {"state": "up", ...}. */
function stateOf(v) {
	if (typeof v === "string") {
		return v;
	}
	if (v && typeof v.state === "string") {
		return v.state;
	}
	return "";
}

function renderStatus() {
	const parts = [["st-uplink", "uplink"], ["st-db", "database"]];
	for (const [id, what] of parts) {
		const el = $(id);
		if (!health) {
			el.dataset.state = "bad";
			el.textContent = what === "uplink" ? t("no_service") : "";
			el.hidden = what !== "uplink";
			continue;
		}
		const s = stateOf(health[what]);
		const key = what + "." + s;
		const word = I18N[lang][key] !== undefined ? t(key) : t("unknown");
		el.hidden = false;
		el.dataset.state = STATE_CLASS[key] || "unknown";
		el.textContent = t(what) + t("colon") + word;
	}
	const name = health && typeof health.office_name === "string" ? health.office_name : "";
	$("office-name").textContent = name !== "" ? name : t("office_default");
	let fw = "";
	if (health && typeof health.firmware === "string") {
		const board = health.board && health.board.name ? health.board.name : "";
		fw = t("firmware") + " " + health.firmware + (board ? " · " + board : "");
	}
	$("fw").textContent = fw;
}

function render() {
	document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
	document.title = t("hotline");
	for (const el of document.querySelectorAll("[data-i18n]")) {
		el.textContent = t(el.dataset.i18n);
	}
	const btn = $("lang");
	btn.textContent = t("lang_button");
	btn.lang = lang === "zh" ? "en" : "zh-CN";
	if (openFunc) {
		$("panel-title").textContent = t(openFunc);
	}
	renderStatus();
	tick();
	for (const fn of renderHooks) {
		fn();
	}
}

function pad(n) {
	return String(n).padStart(2, "0");
}

function tick() {
	const d = new Date();
	$("time").textContent = pad(d.getHours()) + ":" + pad(d.getMinutes());
	const wd = t("weekdays")[d.getDay()];
	$("date").textContent = lang === "zh" ?
		d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 " + wd :
		wd + ", " + d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
}

async function poll() {
	try {
		const r = await fetch("/api/v1/health", { cache: "no-store" });
		health = r.ok ? await r.json() : null;
	} catch (e) {
		health = null;
	}
	renderStatus();
}

function showHome() {
	openFunc = null;
	$("panel").hidden = true;
	$("home").hidden = false;
	for (const fn of homeHooks) {
		fn();
	}
}

function showPanel(func) {
	openFunc = func;
	$("panel-title").textContent = t(func);
	$("home").hidden = true;
	$("panel").hidden = false;
	$("back").focus();
}

/* Where a walk-away leads: the citizen home, in Chinese. */
function resetHome() {
	showHome();
	if (lang !== "zh") {
		lang = "zh";
		render();
	}
}

/* Any touch restarts the countdown back to the home screen. */
function touched() {
	clearTimeout(idleTimer);
	if (!idleHeld) {
		idleTimer = setTimeout(resetHome, IDLE_HOME_MS);
	}
}

/* The words of an error answer {status, zh, en}: the server's own in the
 * current language, else the caller's string for "no answer" (status 0) or
 * for a failure. */
function errorWords(e, noServiceKey, failedKey) {
	if (!e || e.status === 0) {
		return t(noServiceKey);
	}
	const m = lang === "zh" ? e.zh || e.en : e.en || e.zh;
	return m || t(failedKey);
}

/* A public call (no session): JSON in and out, errors as {status, code, zh, en}. */
async function publicApi(method, path, body) {
	const opt = { method, headers: {}, cache: "no-store" };
	if (body !== undefined) {
		opt.headers["Content-Type"] = "application/json";
		opt.body = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(path, opt);
	} catch (e) {
		throw { status: 0, code: "network", zh: "", en: "" };
	}
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (!r.ok) {
		const err = data && data.error ? data.error : {};
		throw { status: r.status, code: err.code || "http_" + r.status,
			zh: err.message_zh || "", en: err.message || "" };
	}
	return data;
}

/*
 * What screens added by other scripts (staff.js) may use of the shell: its
 * strings and language, a call after every render (language switch), the
 * way home and a call when it is taken, a tile's own screen, holding the
 * shell's idle countdown while they run their own, and the public (no
 * session) API call with the words of its errors.
 */
window.kioskShell = {
	strings: I18N,
	t,
	lang: () => lang,
	onRender: (fn) => renderHooks.push(fn),
	onHome: (fn) => homeHooks.push(fn),
	onTile: (func, fn) => {
		tileOpeners[func] = fn;
	},
	showHome,
	resetHome,
	holdIdle: (on) => {
		idleHeld = on;
		touched();
	},
	IDLE_HOME_MS,
	publicApi,
	errorWords,
	pad,
};

document.addEventListener("DOMContentLoaded", () => {
	for (const tile of document.querySelectorAll(".tile")) {
		tile.addEventListener("click", () =>
			(tileOpeners[tile.dataset.func] || showPanel)(tile.dataset.func));
	}
	$("back").addEventListener("click", showHome);
	$("lang").addEventListener("click", () => {
		lang = lang === "zh" ? "en" : "zh";
		render();
	});
	document.addEventListener("pointerdown", touched, true);
	document.addEventListener("contextmenu", (e) => e.preventDefault());
	render();
	poll();
	setInterval(poll, HEALTH_PERIOD_MS);
	setInterval(tick, 1000);
});
