/*
 * 工作日历 / Working days: a tab of the staff home (kioskStaff.addTab).
 * A year as twelve month grids showing ordinary working days, weekends,
 * public holidays (with their names) and weekend days declared working days
 * (调休) each in their own way, with the warning when the year has no data
 * (GET /api/v1/calendar?year=). Supervisors import a year's file
 * (PUT /api/v1/calendar/years/YYYY, the file sent as it is) and set a day
 * by clicking it (PUT /api/v1/calendar/days/DATE); staff and technicians see
 * the calendar read-only. docs/working-days.md describes the model.
 *
 * Every text from data is set with textContent (h()), never innerHTML; no
 * inline script or style (CSP).
 */
"use strict";

(() => {
	const staff = window.kioskStaff;
	if (!staff) {
		return;
	}
	const { shell, t, h, fmt, $ } = staff;
	const pad = shell.pad;

	Object.assign(shell.strings.zh, {
		cal_tab: "工作日历",
		cal_year: "年份",
		cal_prev: "上一年",
		cal_next: "下一年",
		cal_month: "{m}月",
		cal_wd: "一,二,三,四,五,六,日",
		cal_legend_work: "工作日",
		cal_legend_rest: "休息日",
		cal_legend_holiday: "节假日",
		cal_legend_workday: "调休上班",
		cal_source: "数据来源：{src}，{when} 由 {by} 更新",
		cal_src_file: "日历文件",
		cal_src_screen: "本机界面",
		cal_src_city: "市级平台",
		cal_counts: "{year} 年共 {work} 个工作日，列出节假日 {h} 天、调休上班 {w} 天",
		cal_import: "导入年度日历文件",
		cal_import_help: "选择 YYYY.json 格式的年度日历文件（见 docs/working-days.md），将整体替换该年的数据。",
		cal_import_confirm: "将用文件“{file}”中的 {n} 个日期替换 {year} 年的日历。确定导入吗？",
		cal_import_go: "导入",
		cal_choose: "选择文件……",
		cal_imported: "{year} 年的日历已导入。",
		cal_not_json: "所选文件不是有效的 JSON 日历文件。",
		cal_readonly: "只有主管可以修改日历；点击日期可查看其名称。",
		cal_edit_help: "点击日期可设为节假日、调休上班或恢复常规。",
		cal_day_title: "{date}（{wd}）",
		cal_kind: "类型",
		cal_kind_none: "常规（周一至周五上班、周末休息）",
		cal_kind_holiday: "节假日（休息）",
		cal_kind_workday: "调休上班（仅限周六、周日）",
		cal_name: "名称",
		cal_save: "保存",
		cal_saved: "{date} 已保存。",
		cal_weekday_full: "星期一,星期二,星期三,星期四,星期五,星期六,星期日",
		cal_loading: "正在读取日历……",
	});
	Object.assign(shell.strings.en, {
		cal_tab: "Working days",
		cal_year: "Year",
		cal_prev: "Previous year",
		cal_next: "Next year",
		cal_month: "{name}",
		cal_wd: "Mo,Tu,We,Th,Fr,Sa,Su",
		cal_legend_work: "Working day",
		cal_legend_rest: "Weekend",
		cal_legend_holiday: "Public holiday",
		cal_legend_workday: "Working weekend day (调休)",
		cal_source: "Source: {src}, updated {when} by {by}",
		cal_src_file: "calendar file",
		cal_src_screen: "this screen",
		cal_src_city: "city platform",
		cal_counts: "{year}: {work} working days; {h} holidays and {w} working weekend days listed",
		cal_import: "Import a year's calendar file",
		cal_import_help: "Choose a year's calendar file YYYY.json (see docs/working-days.md); it replaces that year's data as a whole.",
		cal_import_confirm: "Replace the calendar of {year} with the {n} days in \"{file}\"?",
		cal_import_go: "Import",
		cal_choose: "Choose a file…",
		cal_imported: "The calendar of {year} was imported.",
		cal_not_json: "The chosen file is not a JSON calendar file.",
		cal_readonly: "Only a supervisor can change the calendar; tap a day to see its name.",
		cal_edit_help: "Tap a day to make it a holiday, a working weekend day, or ordinary again.",
		cal_day_title: "{date} ({wd})",
		cal_kind: "Kind",
		cal_kind_none: "Ordinary (Monday to Friday work, weekends off)",
		cal_kind_holiday: "Public holiday (day off)",
		cal_kind_workday: "Working weekend day (Saturday or Sunday only)",
		cal_name: "Name",
		cal_save: "Save",
		cal_saved: "{date} was saved.",
		cal_weekday_full: "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
		cal_loading: "Reading the calendar…",
	});

	const MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"];

	/* year: shown; data: the server's answer for it; today: "YYYY-MM-DD" */
	const cal = { year: 0, data: null, today: "", busy: false };

	function iso(y, m, d) {
		return y + "-" + pad(m + 1) + "-" + pad(d);
	}

	/* 0 Monday .. 6 Sunday, from the civil date alone (no time zone). */
	function weekday(y, m, d) {
		return (new Date(Date.UTC(y, m, d)).getUTCDay() + 6) % 7;
	}

	function isSupervisor() {
		const u = staff.user();
		return u !== null && u.role === "supervisor";
	}

	function build() {
		const file = h("input", { id: "cal-file", type: "file", accept: ".json,application/json",
			class: "cal-file", on: { change: chooseFile } });
		return h("div", { id: "sh-calendar", class: "sh-section cal", hidden: true },
			h("div", { class: "cal-bar" },
				h("button", { id: "cal-prev", type: "button", class: "s-secondary", i18n: "cal_prev",
					on: { click: () => show(cal.year - 1) } }),
				h("label", { class: "cal-year-pick" },
					h("span", { i18n: "cal_year" }),
					h("select", { id: "cal-year", class: "s-input",
						on: { change: (e) => show(Number(e.target.value)) } })),
				h("button", { id: "cal-next", type: "button", class: "s-secondary", i18n: "cal_next",
					on: { click: () => show(cal.year + 1) } })),
			h("p", { id: "cal-warning", class: "cal-warning", role: "alert", hidden: true }),
			h("p", { id: "cal-msg", class: "s-msg", role: "status", hidden: true }),
			h("p", { id: "cal-source", class: "cal-note" }),
			h("p", { id: "cal-counts", class: "cal-note" }),
			h("ul", { class: "cal-legend" },
				...["work", "rest", "holiday", "workday"].map((k) =>
					h("li", { "data-kind": k }, h("span", { class: "cal-swatch" }),
						h("span", { i18n: "cal_legend_" + k })))),
			h("p", { id: "cal-help", class: "cal-note" }),
			h("div", { id: "cal-months", class: "cal-months" }),
			h("section", { id: "cal-import", class: "s-card cal-import", hidden: true },
				h("h3", { i18n: "cal_import" }),
				h("p", { class: "cal-note", i18n: "cal_import_help" }),
				h("label", { class: "s-button s-secondary cal-file-pick" },
					h("span", { i18n: "cal_choose" }), file)));
	}

	/* The year selector: two years around this one and every year with data. */
	function renderYears(years) {
		const sel = $("cal-year");
		const now = Number((cal.today || String(new Date().getFullYear())).slice(0, 4));
		const set = new Set([now - 1, now, now + 1, cal.year].concat(years || []));
		const list = [...set].filter((y) => y >= 2000 && y <= 2099).sort((a, b) => a - b);
		sel.replaceChildren(...list.map((y) => h("option", { value: String(y), text: String(y),
			selected: y === cal.year })));
	}

	/* How a day is shown: its listed entry, else the weekday rule. */
	function dayKind(listed, wd) {
		if (listed) {
			return listed.kind;
		}
		return wd >= 5 ? "rest" : "work";
	}

	function monthGrid(y, m, listed) {
		const first = weekday(y, m, 1);
		const days = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
		const cells = [];
		for (let i = 0; i < first; i++) {
			cells.push(h("span", { class: "cal-blank" }));
		}
		for (let d = 1; d <= days; d++) {
			const date = iso(y, m, d);
			const e = listed.get(date);
			const kind = dayKind(e, weekday(y, m, d));
			cells.push(h("button", {
				type: "button",
				class: "cal-day" + (date === cal.today ? " is-today" : ""),
				"data-date": date,
				"data-kind": kind,
				title: e && e.name ? e.name : undefined,
				on: { click: () => openDay(date, e) },
			},
			h("span", { class: "cal-num", text: String(d) }),
			e && e.name ? h("span", { class: "cal-name", text: e.name }) : null));
		}
		const title = shell.lang() === "zh" ? fmt("cal_month", { m: m + 1 }) :
			fmt("cal_month", { name: MONTHS_EN[m] });
		return h("section", { class: "cal-month", "data-month": String(m + 1) },
			h("h3", { text: title }),
			h("div", { class: "cal-grid" },
				...t("cal_wd").split(",").map((w, i) =>
					h("span", { class: "cal-wd" + (i >= 5 ? " is-weekend" : ""), text: w })),
				...cells));
	}

	function renderCounts(listed) {
		const y = cal.year;
		let work = 0;
		let hol = 0;
		let wk = 0;
		for (let m = 0; m < 12; m++) {
			const days = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
			for (let d = 1; d <= days; d++) {
				const kind = dayKind(listed.get(iso(y, m, d)), weekday(y, m, d));
				work += kind === "work" || kind === "workday" ? 1 : 0;
			}
		}
		for (const e of listed.values()) {
			hol += e.kind === "holiday" ? 1 : 0;
			wk += e.kind === "workday" ? 1 : 0;
		}
		$("cal-counts").textContent = fmt("cal_counts", { year: y, work, h: hol, w: wk });
	}

	function render() {
		if (!$("cal-months")) {
			return;
		}
		const data = cal.data;
		const listed = new Map(((data && data.days) || []).map((e) => [e.date, e]));
		const warn = $("cal-warning");
		if (data && data.warning) {
			staff.say(warn, { zh: data.warning.message_zh, en: data.warning.message }, "error");
		} else {
			staff.say(warn, null);
		}
		$("cal-source").textContent = data && data.has_data && data.source ?
			fmt("cal_source", {
				src: t("cal_src_" + data.source), when: staff.when(data.updated_ms),
				by: data.updated_by || "—",
			}) : "";
		$("cal-help").textContent = t(isSupervisor() ? "cal_edit_help" : "cal_readonly");
		$("cal-import").hidden = !isSupervisor();
		if (!data) {
			$("cal-counts").textContent = t("cal_loading");
			$("cal-months").replaceChildren();
			return;
		}
		renderCounts(listed);
		const months = [];
		for (let m = 0; m < 12; m++) {
			months.push(monthGrid(cal.year, m, listed));
		}
		$("cal-months").replaceChildren(...months);
	}

	async function load() {
		const y = cal.year;
		try {
			const [status, data] = await Promise.all([
				staff.api("GET", "/api/v1/calendar/status"),
				staff.api("GET", "/api/v1/calendar?year=" + y),
			]);
			if (y !== cal.year) {
				return; /* another year was chosen meanwhile */
			}
			cal.today = status.today || "";
			cal.data = data;
			renderYears(status.years);
			render();
		} catch (e) {
			if (e.status !== 401) {
				staff.say($("cal-msg"), staff.errMsg(e));
			}
		}
	}

	function show(y) {
		if (!(y >= 2000 && y <= 2099)) {
			return;
		}
		cal.year = y;
		cal.data = null;
		staff.say($("cal-msg"), null);
		renderYears([]);
		render();
		load();
	}

	/* ---- changes (supervisor) ---- */

	function openDay(date, e) {
		const [y, m, d] = date.split("-").map(Number);
		const wd = t("cal_weekday_full").split(",")[weekday(y, m - 1, d)];
		const title = fmt("cal_day_title", { date, wd });
		if (!isSupervisor()) {
			const line = title + (e && e.name ? " " + e.name : "");
			staff.say($("cal-msg"), { zh: line, en: line }, "text");
			return;
		}
		const current = e ? e.kind : "none";
		const kinds = ["none", "holiday", "workday"];
		const choice = h("div", { class: "s-roles cal-kinds", role: "radiogroup" },
			...kinds.map((k) => h("label", { class: "s-role" },
				h("input", { type: "radio", name: "cal-kind", value: k, checked: k === current }),
				h("span", { i18n: "cal_kind_" + k }))));
		const name = h("input", { id: "cal-day-name", class: "s-input", type: "text",
			maxlength: "15", autocomplete: "off", value: e && e.name ? e.name : "" });
		staff.dialog({
			text: { key: "cal_day_title", vars: { date, wd } },
			body: h("div", { class: "cal-day-form" },
				h("div", { class: "s-field" }, h("span", { i18n: "cal_kind" }), choice),
				staff.field("cal_name", name)),
			confirmKey: "cal_save",
			run: async () => {
				const kind = choice.querySelector("input:checked").value;
				await staff.api("PUT", "/api/v1/calendar/days/" + date,
					{ kind, name: kind === "none" ? "" : name.value.trim() });
				staff.say($("cal-msg"), { key: "cal_saved", vars: { date } }, "ok");
				load();
			},
		});
	}

	function chooseFile(ev) {
		const input = ev.target;
		const f = input.files && input.files[0];
		if (!f) {
			return;
		}
		f.text().then((text) => {
			input.value = "";
			let parsed = null;
			try {
				parsed = JSON.parse(text);
			} catch (e) {
				parsed = null;
			}
			if (!parsed || typeof parsed.year !== "number") {
				staff.say($("cal-msg"), { key: "cal_not_json" });
				return;
			}
			const year = parsed.year;
			const n = Array.isArray(parsed.days) ? parsed.days.length : 0;
			const ask = { file: f.name, n, year };
			staff.dialog({
				text: { key: "cal_import_confirm", vars: ask },
				confirmKey: "cal_import_go",
				run: async () => {
					/* sent as it is: the server checks it and names what is wrong */
					await staff.api("PUT", "/api/v1/calendar/years/" + year,
						new Blob([text], { type: "application/json" }));
					staff.say($("cal-msg"), { key: "cal_imported", vars: { year } }, "ok");
					show(year);
				},
			});
		});
	}

	function open() {
		if (!cal.year) {
			cal.year = new Date().getFullYear();
		}
		show(cal.year);
	}

	staff.addTab({ tab: "calendar", key: "cal_tab", roles: ["supervisor", "staff", "technician"],
		build, open, render });
})();
