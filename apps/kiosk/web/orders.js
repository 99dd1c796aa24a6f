/*
 * Work-order screens of the kiosk (docs/local-api.md, "Work orders"): the
 * tab 工单 that staff, supervisors and technicians (read-only) see first
 * after login, and the supervisor's tab 统计 with the figures as bar charts.
 *
 * The orders tab leads with a band of what needs doing: urging notices as
 * a red banner until a supervisor acknowledges them, the calendar warning,
 * then due today, overdue, urged, to sign for and waiting to send (each a
 * filter of the list). Below it the list with its filters and search, or
 * one order with every field, its timeline, notices, links, attachments
 * and ONLY the actions the server lists for the caller, each with its form.
 *
 * The one rule a reader needs: the server decides. Actions come from the
 * order's "actions" array and every answer is the order as it now is; a
 * printer failure shows the API's own words with a retry, and nothing is
 * shown as printed unless the server says so. Plain JS, no inline style
 * (CSP); the DOM builder, calls, dialogs and charts come from kioskStaff.
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
		o_tab: "工单",
		o_tab_dash: "工单统计",
		o_due_today: "今日到期",
		o_overdue: "已超期",
		o_urged: "被督办",
		o_pending: "待签收",
		o_sync_pending: "待发送",
		o_due_soon: "即将到期",
		o_unprinted: "未打印",
		o_conflicts: "待处理冲突",
		o_urge_banner: "督办提醒：{n} 张工单收到督办单，请尽快办理。主管确认前此提醒一直显示。",
		o_urge_item: "{number} {title}",
		o_cal_warn: "工作日历缺少 {year} 年的数据，期限按周一至周五计算，可能不准确。请主管导入当年日历。",
		o_sync_note: "{n} 张工单有操作已保存在本机，等待发送到市平台。",
		o_all: "全部",
		o_f_state: "状态",
		o_f_flag: "期限",
		o_f_category: "类别",
		o_f_dept: "主办部门",
		o_f_handler: "承办人",
		o_f_q: "搜索",
		o_q_hint: "工单号、标题、内容或地点",
		o_search: "查询",
		o_reset: "清除条件",
		o_print_new: "打印全部新工单",
		o_printed_n: "已打印 {n} 张新工单。",
		o_printed_none: "没有需要打印的新工单。",
		o_printed_some: "已打印 {n} 张，其余未打印。",
		o_retry: "重试",
		o_col_number: "工单号",
		o_col_title: "标题",
		o_col_category: "类别",
		o_col_state: "状态",
		o_col_due: "期限",
		o_col_dept: "主办",
		o_total: "共 {n} 张",
		o_prev: "上一页",
		o_next: "下一页",
		o_page: "第 {p} 页",
		o_none: "没有符合条件的工单。",
		o_back: "返回列表",
		o_loading: "正在加载…",
		o_st_pending: "待签收",
		o_st_received: "已签收",
		o_st_handling: "办理中",
		o_st_drafted: "待审核",
		o_st_replied: "已答复",
		o_st_closed: "办结",
		o_st_return_pending: "退回申请中",
		o_st_returned: "已退回",
		o_st_recalled: "已撤回",
		o_cat_consult: "咨询",
		o_cat_help: "求助",
		o_cat_complaint: "投诉",
		o_cat_report: "举报",
		o_cat_suggestion: "意见建议",
		o_fl_ok: "",
		o_fl_due_soon: "即将到期",
		o_fl_due_today: "今日到期",
		o_fl_overdue: "已超期",
		o_chip_sync: "待发送",
		o_chip_urged: "督办",
		o_chip_unprinted: "未打印",
		o_fields: "工单信息",
		o_k_number: "工单号",
		o_k_channel: "来源渠道",
		o_k_category: "类别",
		o_k_field: "领域",
		o_k_code: "分类代码",
		o_k_urgency: "紧急程度",
		o_k_complexity: "复杂程度",
		o_k_location: "地点",
		o_k_content: "诉求内容",
		o_k_dispatch: "派单时间",
		o_k_sign_due: "签收期限",
		o_k_received: "签收时间",
		o_k_due: "办理期限",
		o_k_lead: "主办部门",
		o_k_co: "协办部门",
		o_k_handler: "承办人",
		o_k_reply: "答复内容",
		o_k_drafted_by: "拟稿人",
		o_k_signed_by: "签发人",
		o_k_replied: "答复时间",
		o_k_closed: "办结时间",
		o_k_visit: "回访结果",
		o_k_ext: "延期申请",
		o_k_return: "退回申请",
		o_k_city_reason: "市平台意见",
		o_k_repeat_of: "重复诉求，关联工单",
		o_k_redo: "发回重办次数",
		o_k_lookup: "查询码",
		o_k_printed: "工单已打印",
		o_k_contact: "诉求人联系方式",
		o_yes: "是",
		o_no: "否",
		o_hidden_identity: "诉求人要求保密身份，联系方式不显示。",
		o_no_contact: "无联系方式",
		o_reveal: "显示完整联系方式",
		o_reveal_note: "查看完整联系方式会记入审计日志。",
		o_actions: "可进行的操作",
		o_no_actions: "当前没有可进行的操作。",
		o_act_sign: "签收",
		o_act_assign: "分派主办/协办",
		o_act_draft_reply: "拟写答复",
		o_act_reject_draft: "退回修改",
		o_act_sign_off: "审核签发",
		o_act_request_return: "申请退回",
		o_act_request_extension: "申请延期",
		o_act_link_repeat: "关联重复诉求",
		o_act_print: "打印工单",
		o_act_ack_notice: "确认督办单",
		o_act_ack_conflict: "确认已处理",
		o_confirm_sign: "确认签收这张工单？签收后开始计算办理期限。",
		o_confirm_sign_off: "审核通过并签发这份答复？签发后答复将发送到市平台。",
		o_form_assign: "选择主办部门，可加选协办部门。",
		o_form_draft: "写下给市民的答复。",
		o_form_reject: "写明退回修改的理由。",
		o_form_return: "不属于本县职责的工单可申请退回。理由和法律依据都必须填写；不当退回会被计入考核。",
		o_form_ext: "在期限到达前申请延期，由市平台审批。",
		o_form_link: "输入先前工单的工单号，把这张工单标记为重复诉求。",
		o_l_lead: "主办部门",
		o_l_co: "协办部门",
		o_l_complexity: "复杂程度",
		o_cpx_keep: "不变",
		o_cpx_simple: "一般",
		o_cpx_complex: "较复杂",
		o_cpx_difficult: "疑难",
		o_l_note: "备注（可不填）",
		o_l_reply: "答复内容",
		o_l_comment: "退回理由",
		o_l_reason: "理由",
		o_l_basis: "法律依据",
		o_l_ext_basis: "依据",
		o_l_new_due: "申请延至",
		o_l_number: "先前工单号",
		o_ok: "确定",
		o_need: "请填写“{what}”。",
		o_notices: "督办单",
		o_notice_acked: "已由 {who} 于 {t} 确认",
		o_notice_open: "待主管确认",
		o_conflicts_title: "市平台变更冲突",
		o_links: "关联工单",
		o_attachments: "附件",
		o_no_attachments: "暂无附件。",
		o_upload: "上传照片或扫描件",
		o_upload_hint: "JPEG、PNG 照片或 PDF 扫描件",
		o_uploaded: "附件已上传。",
		o_download: "下载",
		o_history: "办理记录",
		o_done: "已完成。",
		o_print_ok: "工单已打印。",
		o_technician: "技术人员只能查看工单，不能办理。",
		o_dash_from: "派单日期从",
		o_dash_to: "到",
		o_dash_show: "显示",
		o_dash_total: "工单总数",
		o_dash_on_time: "按时答复率",
		o_dash_resolution: "问题解决率",
		o_dash_satisfaction: "满意率",
		o_dash_rates: "办理质量",
		o_dash_rate: "比率",
		o_dash_overdue_dept: "各部门超期工单",
		o_dash_by_category: "各类别工单数",
		o_dash_by_state: "各状态工单数",
		o_dash_count: "件数",
		o_dash_overdue: "超期",
		o_dash_empty: "这段时间没有工单。",
		o_dash_bad_range: "请选择开始和结束日期，结束不早于开始。",
		o_ch_phone: "电话",
		o_ch_web: "网站",
		o_ch_wechat: "微信",
		o_ch_app: "手机应用",
		o_ch_sms: "短信",
		o_ch_letter: "信件",
		o_ch_fax: "传真",
		o_ch_walk_in: "现场",
		o_urg_normal: "一般",
		o_urg_urgent: "紧急（应急类）",
		o_visit_satisfied: "满意",
		o_visit_lawful: "依法依规答复",
		o_visit_unsatisfied: "不满意",
		o_ext_pending: "待市平台审批",
		o_ext_approved: "已批准",
		o_ext_rejected: "未批准",
		o_h_dispatch: "市平台派单",
		o_h_sign: "签收",
		o_h_assign: "分派",
		o_h_draft_reply: "拟写答复",
		o_h_reject_draft: "退回修改",
		o_h_sign_off: "审核签发",
		o_h_request_return: "申请退回",
		o_h_request_extension: "申请延期",
		o_h_ack_notice: "确认督办单",
		o_h_ack_conflict: "确认冲突已处理",
		o_h_link_repeat: "关联重复诉求",
		o_h_add_attachment: "上传附件",
		o_h_print: "打印工单",
		o_h_return_decision: "市平台退回审核",
		o_h_extension_decision: "市平台延期审批",
		o_h_visit_result: "市平台回访",
		o_h_notice: "收到督办单",
		o_h_recall: "市平台撤回",
		o_h_redispatch: "市平台重新派单",
		o_h_close: "办结",
		o_h_redo: "市平台发回重办",
		o_h_returned: "市平台同意退回",
		o_h_return_rejected: "市平台不同意退回",
		o_h_extension_approved: "市平台批准延期",
		o_h_extension_rejected: "市平台未批准延期",
		o_h_redispatch_update: "市平台更新工单",
		o_h_city_conflict: "与市平台变更冲突",
		o_nk_urge: "催办",
		o_nk_supervise: "督办",
		o_n: "{n} 件",
		o_na: "—",
	});

	Object.assign(shell.strings.en, {
		o_tab: "Work orders",
		o_tab_dash: "Order figures",
		o_due_today: "Due today",
		o_overdue: "Overdue",
		o_urged: "Urged",
		o_pending: "To sign for",
		o_sync_pending: "Waiting to send",
		o_due_soon: "Due soon",
		o_unprinted: "Not printed",
		o_conflicts: "Conflicts",
		o_urge_banner: "Urging notice: {n} order(s) received an urging notice from the city. Handle them now. This stays until a supervisor acknowledges.",
		o_urge_item: "{number} {title}",
		o_cal_warn: "The working-day calendar has no data for {year}: deadlines count Monday to Friday and may be wrong. A supervisor should import this year's calendar.",
		o_sync_note: "{n} order(s) have actions saved on this appliance, waiting to be sent to the city.",
		o_all: "All",
		o_f_state: "State",
		o_f_flag: "Deadline",
		o_f_category: "Category",
		o_f_dept: "Lead department",
		o_f_handler: "Handler",
		o_f_q: "Search",
		o_q_hint: "Order number, title, content or place",
		o_search: "Search",
		o_reset: "Clear",
		o_print_new: "Print all new orders",
		o_printed_n: "{n} new order slip(s) printed.",
		o_printed_none: "There are no new orders to print.",
		o_printed_some: "{n} printed; the others were not.",
		o_retry: "Retry",
		o_col_number: "Order no.",
		o_col_title: "Title",
		o_col_category: "Category",
		o_col_state: "State",
		o_col_due: "Deadline",
		o_col_dept: "Lead",
		o_total: "{n} order(s)",
		o_prev: "Previous",
		o_next: "Next",
		o_page: "Page {p}",
		o_none: "No orders match.",
		o_back: "Back to the list",
		o_loading: "Loading…",
		o_st_pending: "To sign for",
		o_st_received: "Received",
		o_st_handling: "In hand",
		o_st_drafted: "Awaiting sign-off",
		o_st_replied: "Replied",
		o_st_closed: "Closed",
		o_st_return_pending: "Return requested",
		o_st_returned: "Returned",
		o_st_recalled: "Recalled",
		o_cat_consult: "Consultation",
		o_cat_help: "Help request",
		o_cat_complaint: "Complaint",
		o_cat_report: "Report",
		o_cat_suggestion: "Suggestion",
		o_fl_ok: "",
		o_fl_due_soon: "Due soon",
		o_fl_due_today: "Due today",
		o_fl_overdue: "Overdue",
		o_chip_sync: "Waiting to send",
		o_chip_urged: "Urged",
		o_chip_unprinted: "Not printed",
		o_fields: "The order",
		o_k_number: "Order no.",
		o_k_channel: "Channel",
		o_k_category: "Category",
		o_k_field: "Field",
		o_k_code: "Classification",
		o_k_urgency: "Urgency",
		o_k_complexity: "Complexity",
		o_k_location: "Place",
		o_k_content: "Request",
		o_k_dispatch: "Dispatched",
		o_k_sign_due: "Sign for by",
		o_k_received: "Signed for",
		o_k_due: "Due",
		o_k_lead: "Lead department",
		o_k_co: "Co-handlers",
		o_k_handler: "Handler",
		o_k_reply: "Reply",
		o_k_drafted_by: "Drafted by",
		o_k_signed_by: "Signed off by",
		o_k_replied: "Replied",
		o_k_closed: "Closed",
		o_k_visit: "Return visit",
		o_k_ext: "Extension",
		o_k_return: "Return request",
		o_k_city_reason: "The city's reason",
		o_k_repeat_of: "Repeat of",
		o_k_redo: "Sent back for redo",
		o_k_lookup: "Lookup code",
		o_k_printed: "Slip printed",
		o_k_contact: "Citizen's contact",
		o_yes: "Yes",
		o_no: "No",
		o_hidden_identity: "The citizen asked to stay anonymous: no contact is shown.",
		o_no_contact: "No contact",
		o_reveal: "Show the full contact",
		o_reveal_note: "Showing the full contact is recorded in the audit log.",
		o_actions: "What you can do",
		o_no_actions: "Nothing can be done to this order now.",
		o_act_sign: "Sign for",
		o_act_assign: "Assign",
		o_act_draft_reply: "Draft reply",
		o_act_reject_draft: "Send back",
		o_act_sign_off: "Sign off",
		o_act_request_return: "Request return",
		o_act_request_extension: "Request extension",
		o_act_link_repeat: "Link repeat",
		o_act_print: "Print slip",
		o_act_ack_notice: "Acknowledge",
		o_act_ack_conflict: "Mark dealt with",
		o_confirm_sign: "Sign for this order? Its handling deadline starts now.",
		o_confirm_sign_off: "Approve and sign off this reply? It is then sent to the city.",
		o_form_assign: "Choose the lead department, and any co-handling departments.",
		o_form_draft: "Write the reply to the citizen.",
		o_form_reject: "Say why the draft goes back.",
		o_form_return: "An order that is not this county's duty may be returned. Both the reason and the legal basis are required; improper returns count against the office.",
		o_form_ext: "Ask the city for a later deadline, before the deadline passes.",
		o_form_link: "Enter the earlier order's number to mark this one as a repeated request.",
		o_l_lead: "Lead department",
		o_l_co: "Co-handling departments",
		o_l_complexity: "Complexity",
		o_cpx_keep: "Unchanged",
		o_cpx_simple: "Simple",
		o_cpx_complex: "Complex",
		o_cpx_difficult: "Difficult",
		o_l_note: "Note (optional)",
		o_l_reply: "Reply",
		o_l_comment: "Reason",
		o_l_reason: "Reason",
		o_l_basis: "Legal basis",
		o_l_ext_basis: "Basis",
		o_l_new_due: "New deadline",
		o_l_number: "Earlier order no.",
		o_ok: "OK",
		o_need: "Fill in “{what}”.",
		o_notices: "Urging notices",
		o_notice_acked: "Acknowledged by {who} at {t}",
		o_notice_open: "Waiting for a supervisor",
		o_conflicts_title: "Changes from the city in conflict",
		o_links: "Linked orders",
		o_attachments: "Attachments",
		o_no_attachments: "No attachments.",
		o_upload: "Upload a photo or scan",
		o_upload_hint: "JPEG or PNG photo, or PDF scan",
		o_uploaded: "Attachment uploaded.",
		o_download: "Download",
		o_history: "History",
		o_done: "Done.",
		o_print_ok: "The slip is printed.",
		o_technician: "Technicians can look at orders but not act on them.",
		o_dash_from: "Dispatched from",
		o_dash_to: "to",
		o_dash_show: "Show",
		o_dash_total: "Orders",
		o_dash_on_time: "Replied on time",
		o_dash_resolution: "Resolution rate",
		o_dash_satisfaction: "Satisfaction rate",
		o_dash_rates: "Quality",
		o_dash_rate: "Rate",
		o_dash_overdue_dept: "Overdue orders by department",
		o_dash_by_category: "Orders by category",
		o_dash_by_state: "Orders by state",
		o_dash_count: "Orders",
		o_dash_overdue: "Overdue",
		o_dash_empty: "No orders in this period.",
		o_dash_bad_range: "Choose a start and an end date; the end may not be before the start.",
		o_ch_phone: "Phone",
		o_ch_web: "Web",
		o_ch_wechat: "WeChat",
		o_ch_app: "App",
		o_ch_sms: "SMS",
		o_ch_letter: "Letter",
		o_ch_fax: "Fax",
		o_ch_walk_in: "Walk-in",
		o_urg_normal: "Normal",
		o_urg_urgent: "Urgent (emergency type)",
		o_visit_satisfied: "Satisfied",
		o_visit_lawful: "Lawful reply",
		o_visit_unsatisfied: "Unsatisfied",
		o_ext_pending: "Waiting for the city",
		o_ext_approved: "Approved",
		o_ext_rejected: "Rejected",
		o_h_dispatch: "Dispatched by the city",
		o_h_sign: "Signed for",
		o_h_assign: "Assigned",
		o_h_draft_reply: "Reply drafted",
		o_h_reject_draft: "Draft sent back",
		o_h_sign_off: "Signed off",
		o_h_request_return: "Return requested",
		o_h_request_extension: "Extension requested",
		o_h_ack_notice: "Notice acknowledged",
		o_h_ack_conflict: "Conflict dealt with",
		o_h_link_repeat: "Linked as a repeat",
		o_h_add_attachment: "Attachment added",
		o_h_print: "Slip printed",
		o_h_return_decision: "The city decided on the return",
		o_h_extension_decision: "The city decided on the extension",
		o_h_visit_result: "Return visit by the city",
		o_h_notice: "Urging notice received",
		o_h_recall: "Recalled by the city",
		o_h_redispatch: "Dispatched again by the city",
		o_h_close: "Closed",
		o_h_redo: "Sent back for redo by the city",
		o_h_returned: "Return approved by the city",
		o_h_return_rejected: "Return refused by the city",
		o_h_extension_approved: "Extension approved by the city",
		o_h_extension_rejected: "Extension refused by the city",
		o_h_redispatch_update: "Updated by the city",
		o_h_city_conflict: "In conflict with a change from the city",
		o_nk_urge: "Urging",
		o_nk_supervise: "Supervision",
		o_n: "{n}",
		o_na: "—",
	});

	const API = "/api/v1/orders";
	const REFRESH_MS = 30000;
	const PAGE = 50;
	const STATES = ["pending", "received", "handling", "drafted", "replied", "closed",
		"return_pending", "returned", "recalled"];
	const CATEGORIES = ["consult", "help", "complaint", "report", "suggestion"];
	const FLAGS = ["due_today", "overdue", "due_soon", "urged", "pending", "sync_pending",
		"unprinted", "conflict"];
	/* Actions drawn as buttons in the action bar (notices, conflicts and
	 * attachments have their own places). */
	const BAR_ACTIONS = ["sign", "assign", "draft_reply", "reject_draft", "sign_off",
		"request_extension", "request_return", "link_repeat", "print"];


	const st = {
		home: null,
		list: null,
		filter: { state: "", flag: "", category: "", dept: "", handler: "", q: "" },
		page: 1,
		order: null, /* the open order, as the server last sent it */
		depts: [],
		timer: 0,
		open: false,
		dash: null,
		calendar: null, /* GET /api/v1/calendar/status */
	};

	/* "2023-11-13 17:30" in local time; "" for 0. */
	function minute(ms) {
		if (!ms) {
			return "";
		}
		const d = new Date(ms);
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
			pad(d.getHours()) + ":" + pad(d.getMinutes());
	}

	function day(ms) {
		const d = new Date(ms);
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
	}

	/* Our word for a value, when we have one; else the server's Chinese or the value. */
	function word(prefix, v, zh) {
		const own = shell.strings[shell.lang()][prefix + v];
		if (own !== undefined) {
			return own;
		}
		return shell.lang() === "zh" && zh ? zh : v || "";
	}

	function deptName(code) {
		const d = st.depts.find((x) => x.code === code);
		if (!d) {
			return code || "";
		}
		return (shell.lang() === "zh" ? d.name_zh || d.name_en : d.name_en || d.name_zh) || code;
	}

	function isTech() {
		const u = staff.user();
		return u && u.role === "technician";
	}

	function isSupervisor() {
		const u = staff.user();
		return u && u.role === "supervisor";
	}

	function fail(el, e) {
		if (e.status !== 401) {
			staff.say(el, staff.errMsg(e));
		}
	}

	/* ================= the orders tab ================= */

	function buildOrders() {
		const sel = (id, label, values, prefix) => staff.field(label,
			h("select", { id, class: "s-input" },
				h("option", { value: "", i18n: "o_all" }),
				...values.map((v) => h("option", { value: v, "data-word": prefix + v, text: t(prefix + v) }))));
		const form = h("form", { id: "so-filter", class: "so-filter", novalidate: true,
			on: { submit: (e) => {
				e.preventDefault();
				search(1);
			} } },
		sel("so-f-state", "o_f_state", STATES, "o_st_"),
		staff.field("o_f_flag", h("select", { id: "so-f-flag", class: "s-input" },
			h("option", { value: "", i18n: "o_all" }),
			...["due_today", "overdue", "due_soon", "urged", "sync_pending", "unprinted"].map((v) =>
				h("option", { value: v, "data-word": "o_fl_" + v }, flagWord(v))))),
		sel("so-f-category", "o_f_category", CATEGORIES, "o_cat_"),
		staff.field("o_f_dept", h("select", { id: "so-f-dept", class: "s-input" },
			h("option", { value: "", i18n: "o_all" }))),
		staff.field("o_f_handler", h("input", { id: "so-f-handler", class: "s-input so-short",
			type: "text", maxlength: "63", autocomplete: "off" })),
		staff.field("o_f_q", h("input", { id: "so-f-q", class: "s-input", type: "search",
			maxlength: "120", autocomplete: "off", "data-ph": "o_q_hint", placeholder: t("o_q_hint") })),
		h("div", { class: "so-filter-btns" },
			h("button", { id: "so-search", type: "submit", class: "s-primary", i18n: "o_search" }),
			h("button", { id: "so-reset", type: "button", class: "s-secondary", i18n: "o_reset",
				on: { click: resetFilter } })));
		return h("div", { id: "sh-orders", class: "sh-section so", hidden: true },
			h("div", { id: "so-urgent", class: "so-urgent", role: "alert", hidden: true }),
			h("p", { id: "so-cal", class: "so-cal", role: "status", hidden: true }),
			h("div", { id: "so-band", class: "so-band" }),
			h("p", { id: "so-sync", class: "so-sync", hidden: true }),
			/* the backlog panel of sync.js (how much waits for the city, and why) */
			h("section", { id: "sy-home", class: "sy-home", hidden: true }),
			h("p", { id: "so-msg", class: "s-msg", role: "alert", hidden: true }),
			h("div", { id: "so-listview" },
				form,
				h("div", { class: "s-row so-print-row" },
					h("button", { id: "so-print-new", type: "button", class: "s-secondary",
						i18n: "o_print_new", on: { click: printNew } }),
					h("button", { id: "so-print-new-retry", type: "button", class: "s-primary",
						i18n: "o_retry", hidden: true, on: { click: printNew } })),
				h("p", { id: "so-print-msg", class: "s-msg", role: "status", hidden: true }),
				h("table", { id: "so-table", class: "s-table so-table" },
					h("thead", {}, h("tr", {},
						...["o_col_number", "o_col_title", "o_col_category", "o_col_state",
							"o_col_due", "o_col_dept"].map((k) => h("th", { i18n: k })))),
					h("tbody", {})),
				h("div", { class: "s-row so-pager" },
					h("span", { id: "so-total" }),
					h("button", { id: "so-prev", type: "button", class: "s-small", i18n: "o_prev",
						on: { click: () => search(st.page - 1) } }),
					h("span", { id: "so-pageno" }),
					h("button", { id: "so-next", type: "button", class: "s-small", i18n: "o_next",
						on: { click: () => search(st.page + 1) } }))),
			h("div", { id: "so-detail", class: "so-detail", hidden: true }));
	}

	function flagWord(v) {
		const k = { due_today: "o_due_today", overdue: "o_overdue", due_soon: "o_due_soon",
			urged: "o_urged", sync_pending: "o_sync_pending", unprinted: "o_unprinted",
			pending: "o_pending", conflict: "o_conflicts" }[v];
		return k ? t(k) : v;
	}

	async function openOrders() {
		st.open = true;
		staff.say($("so-msg"), null);
		$("so-print-new").hidden = isTech();
		if (st.depts.length === 0) {
			try {
				const r = await staff.api("GET", API + "/departments");
				st.depts = Array.isArray(r.departments) ? r.departments : [];
			} catch (e) {
				st.depts = [];
			}
			fillDepts();
		}
		showList();
		await Promise.all([loadHome(), search(st.page)]);
		clearInterval(st.timer);
		st.timer = setInterval(refresh, REFRESH_MS);
	}

	function closeOrders() {
		st.open = false;
		clearInterval(st.timer);
		st.timer = 0;
	}

	async function refresh() {
		if (!st.open || !staff.user()) {
			return;
		}
		await loadHome();
		if (st.order) {
			await loadOrder(st.order.id, false);
		} else {
			await search(st.page);
		}
	}

	function fillDepts() {
		const s = $("so-f-dept");
		if (!s) {
			return;
		}
		const keep = s.value;
		s.replaceChildren(h("option", { value: "", i18n: "o_all" }),
			...st.depts.map((d) => h("option", { value: d.code }, deptName(d.code))));
		s.value = keep;
	}

	/* ---- the home band ---- */

	async function loadHome() {
		/* The calendar's own status says which years lack data (its words). */
		const cal = staff.api("GET", "/api/v1/calendar/status").catch(() => null);
		try {
			st.home = await staff.api("GET", API + "/home");
		} catch (e) {
			fail($("so-msg"), e);
			return;
		}
		st.calendar = await cal;
		renderHome();
	}

	function renderHome() {
		const home = st.home;
		if (!home || !$("so-band")) {
			return;
		}
		const c = home.counts || {};
		const urged = Array.isArray(home.urged) ? home.urged : [];
		const banner = $("so-urgent");
		if ((c.urged || 0) > 0) {
			banner.replaceChildren(
				h("strong", {}, fmt("o_urge_banner", { n: c.urged })),
				h("div", { class: "so-urgent-list" }, ...urged.map((o) =>
					h("button", { type: "button", class: "so-urgent-item", "data-id": o.id,
						on: { click: () => openOrder(o.id) } },
					fmt("o_urge_item", { number: o.number, title: o.title || "" })))));
			banner.hidden = false;
		} else {
			banner.hidden = true;
			banner.replaceChildren();
		}
		const warns = st.calendar && Array.isArray(st.calendar.warnings) ? st.calendar.warnings : [];
		const cal = home.calendar;
		if (warns.length > 0) {
			staff.say($("so-cal"), {
				zh: warns.map((w) => w.message_zh || w.message).join(" "),
				en: warns.map((w) => w.message || w.message_zh).join(" "),
			}, "text");
		} else if (!st.calendar && cal && cal.has_year === false) {
			staff.say($("so-cal"), cal.warning_zh ? { zh: cal.warning_zh, en: cal.warning_en } :
				{ key: "o_cal_warn", vars: { year: cal.year } }, "text");
		} else {
			staff.say($("so-cal"), null);
		}
		const cards = [
			["due_today", "o_due_today", "so-c-today"],
			["overdue", "o_overdue", "so-c-overdue"],
			["urged", "o_urged", "so-c-urged"],
			["pending", "o_pending", "so-c-pending"],
			["sync_pending", "o_sync_pending", "so-c-sync"],
			["due_soon", "o_due_soon", "so-c-soon"],
		];
		$("so-band").replaceChildren(...cards.map(([flag, key, cls]) =>
			h("button", { type: "button", class: "so-card " + cls + ((c[flag] || 0) > 0 ? " is-hot" : ""),
				"data-flag": flag, on: { click: () => filterBy(flag) } },
			h("span", { class: "so-card-n" }, String(c[flag] || 0)),
			h("span", { class: "so-card-k", i18n: key }))));
		if ((c.sync_pending || 0) > 0) {
			staff.say($("so-sync"), { key: "o_sync_note", vars: { n: c.sync_pending } }, "text");
		} else {
			staff.say($("so-sync"), null);
		}
	}

	/* A band card: the list filtered by it. "pending" is a state, the others flags. */
	function filterBy(flag) {
		st.filter = { state: "", flag: "", category: "", dept: "", handler: "", q: "" };
		if (flag === "pending") {
			st.filter.state = "pending";
		} else {
			st.filter.flag = flag;
		}
		writeFilter();
		showList();
		search(1);
	}

	/* ---- the list ---- */

	function readFilter() {
		st.filter = {
			state: $("so-f-state").value,
			flag: $("so-f-flag").value,
			category: $("so-f-category").value,
			dept: $("so-f-dept").value,
			handler: $("so-f-handler").value.trim(),
			q: $("so-f-q").value.trim(),
		};
	}

	function writeFilter() {
		$("so-f-state").value = st.filter.state;
		$("so-f-flag").value = st.filter.flag;
		$("so-f-category").value = st.filter.category;
		$("so-f-dept").value = st.filter.dept;
		$("so-f-handler").value = st.filter.handler;
		$("so-f-q").value = st.filter.q;
	}

	function resetFilter() {
		st.filter = { state: "", flag: "", category: "", dept: "", handler: "", q: "" };
		writeFilter();
		search(1);
	}

	async function search(page) {
		if ($("so-f-state")) {
			readFilter();
		}
		const p = new URLSearchParams();
		for (const [k, v] of Object.entries(st.filter)) {
			if (v) {
				p.set(k, v);
			}
		}
		p.set("page", String(Math.max(1, page)));
		p.set("limit", String(PAGE));
		try {
			const r = await staff.api("GET", API + "?" + p.toString());
			st.list = r;
			st.page = Math.max(1, page);
			staff.say($("so-msg"), null);
			renderList();
		} catch (e) {
			fail($("so-msg"), e);
		}
	}

	function chips(o) {
		const out = [];
		if (o.due_flag && o.due_flag !== "ok") {
			out.push(h("span", { class: "so-chip so-fl-" + o.due_flag }, word("o_fl_", o.due_flag)));
		}
		if (o.urged > 0) {
			out.push(h("span", { class: "so-chip so-chip-urged", i18n: "o_chip_urged" }));
		}
		if (o.sync_pending) {
			out.push(h("span", { class: "so-chip so-chip-sync", i18n: "o_chip_sync" }));
		}
		if (o.printed === false && o.state === "pending") {
			out.push(h("span", { class: "so-chip", i18n: "o_chip_unprinted" }));
		}
		return out;
	}

	function renderList() {
		const tb = $("so-table") && $("so-table").tBodies[0];
		if (!tb || !st.list) {
			return;
		}
		const rows = Array.isArray(st.list.rows) ? st.list.rows : [];
		tb.replaceChildren(...rows.map((o) => h("tr", {
			"data-id": o.id, "data-number": o.number, "data-state": o.state, class: "so-row",
			on: { click: () => openOrder(o.id) },
		},
		h("td", { class: "so-number" }, o.number || ""),
		h("td", { class: "so-title" }, h("span", {}, o.title || ""), ...chips(o)),
		h("td", {}, word("o_cat_", o.category, o.category_zh)),
		h("td", { class: "so-state" }, word("o_st_", o.state, o.state_zh)),
		h("td", { class: "so-due" }, minute(o.deadline_ms || o.due_ms)),
		h("td", {}, deptName(o.lead_dept)))));
		if (rows.length === 0) {
			tb.append(h("tr", {}, h("td", { colspan: "6", class: "so-empty", i18n: "o_none" })));
		}
		const total = st.list.total || 0;
		$("so-total").textContent = fmt("o_total", { n: total });
		$("so-pageno").textContent = fmt("o_page", { p: st.page });
		$("so-prev").disabled = st.page <= 1;
		$("so-next").disabled = st.page * PAGE >= total;
	}

	function showList() {
		st.order = null;
		$("so-detail").hidden = true;
		$("so-detail").replaceChildren();
		$("so-listview").hidden = false;
	}

	/* ---- printing ---- */

	async function printNew() {
		const msg = $("so-print-msg");
		const retry = $("so-print-new-retry");
		const btn = $("so-print-new");
		btn.disabled = true;
		retry.hidden = true;
		staff.say(msg, null);
		try {
			const r = await staff.api("POST", API + "/print-new");
			staff.say(msg, r.printed > 0 ? { key: "o_printed_n", vars: { n: r.printed } } :
				{ key: "o_printed_none" }, "ok");
		} catch (e) {
			if (e.status === 401) {
				return;
			}
			staff.say(msg, staff.errMsg(e));
			retry.hidden = !/^printer_/.test(e.code);
		} finally {
			btn.disabled = false;
		}
		loadHome();
		search(st.page);
	}

	/* ---- one order ---- */

	async function openOrder(id) {
		$("so-listview").hidden = true;
		const box = $("so-detail");
		box.hidden = false;
		box.replaceChildren(h("p", { class: "s-msg", "data-kind": "text", i18n: "o_loading" }));
		await loadOrder(id, true);
	}

	async function loadOrder(id, scroll) {
		try {
			st.order = await staff.api("GET", API + "/" + encodeURIComponent(id));
		} catch (e) {
			if (e.status !== 401) {
				showList();
				staff.say($("so-msg"), staff.errMsg(e));
			}
			return;
		}
		renderOrder();
		if (scroll) {
			$("so-detail").scrollIntoView({ block: "start" });
		}
	}

	/* An answer that is the order as it now is (every action's answer). */
	function took(order, msgKey) {
		st.order = order;
		renderOrder();
		if (msgKey) {
			staff.say($("so-act-msg"), { key: msgKey }, "ok");
		}
		loadHome();
	}

	function kv(key, value, cls) {
		if (value === undefined || value === null || value === "") {
			return null;
		}
		return h("div", { class: "so-kv" + (cls ? " " + cls : "") },
			h("dt", { i18n: key }), h("dd", {}, value));
	}

	function contactBlock(o) {
		const c = o.contact;
		const box = h("div", { id: "so-contact", class: "so-contact" });
		if (o.hide_identity) {
			box.append(h("p", { i18n: "o_hidden_identity" }));
			return box;
		}
		if (!c || typeof c !== "object" || c.view === "unavailable") {
			box.append(h("p", { i18n: "o_no_contact" }));
			return box;
		}
		const parts = ["name", "phone", "address", "contact", "id_number"]
			.filter((k) => typeof c[k] === "string" && c[k] !== "")
			.map((k) => h("span", { class: "so-contact-" + k }, c[k]));
		box.append(h("p", { class: "so-contact-line" }, ...parts));
		if (!isTech() && c.view === "masked") {
			box.append(h("button", { id: "so-reveal", type: "button", class: "s-small",
				i18n: "o_reveal", on: { click: reveal } }),
			h("span", { class: "so-hint", i18n: "o_reveal_note" }));
		}
		return box;
	}

	async function reveal() {
		try {
			const r = await staff.api("POST", API + "/" + st.order.id + "/reveal-contact");
			st.order = r;
			renderOrder();
		} catch (e) {
			fail($("so-act-msg"), e);
		}
	}

	function actionBar(o) {
		const acts = Array.isArray(o.actions) ? o.actions : [];
		const shownActs = BAR_ACTIONS.filter((a) => acts.includes(a));
		const bar = h("div", { id: "so-actions", class: "so-actions" },
			...shownActs.map((a) => h("button", {
				type: "button", "data-act": a,
				class: a === "sign" || a === "sign_off" ? "s-primary" : "s-secondary",
				i18n: "o_act_" + a, on: { click: () => act(a) },
			})));
		if (shownActs.length === 0) {
			bar.append(h("p", { class: "so-hint", i18n: isTech() ? "o_technician" : "o_no_actions" }));
		}
		return h("section", { class: "s-card so-acts" },
			h("h3", { i18n: "o_actions" }), bar,
			h("p", { id: "so-act-msg", class: "s-msg", role: "status", hidden: true }),
			h("button", { id: "so-print-retry", type: "button", class: "s-primary", i18n: "o_retry",
				hidden: true, on: { click: () => act("print") } }));
	}

	function noticesBlock(o) {
		const ns = Array.isArray(o.notices) ? o.notices : [];
		if (ns.length === 0) {
			return null;
		}
		const canAck = Array.isArray(o.actions) && o.actions.includes("ack_notice");
		return h("section", { id: "so-notices", class: "s-card so-notices" },
			h("h3", { i18n: "o_notices" }),
			...ns.map((n) => {
				const open = !n.acked_ms;
				return h("div", { class: "so-notice" + (open ? " is-open" : ""), "data-notice": n.id },
					h("p", { class: "so-notice-text" }, [minute(n.at_ms), word("o_nk_", n.kind),
						n.issued_by, n.text].filter((x) => x).join(" · ")),
					open ? h("p", { class: "so-notice-state", i18n: "o_notice_open" }) :
						h("p", { class: "so-notice-state" }, fmt("o_notice_acked",
							{ who: n.acked_by || "", t: minute(n.acked_ms) })),
					open && canAck ? h("button", { type: "button", class: "s-primary",
						"data-ack": n.id, i18n: "o_act_ack_notice",
						on: { click: () => ackNotice(n.id) } }) : null);
			}));
	}

	function conflictsBlock(o) {
		const cs = (Array.isArray(o.conflicts) ? o.conflicts : []).filter((c) => !c.acked_ms);
		if (cs.length === 0) {
			return null;
		}
		const canAck = Array.isArray(o.actions) && o.actions.includes("ack_conflict");
		return h("section", { class: "s-card so-conflicts" },
			h("h3", { i18n: "o_conflicts_title" }),
			...cs.map((c) => h("div", { class: "so-notice is-open" },
				h("p", {}, [minute(c.at_ms), c.kind || "", c.detail || ""]
					.filter((x) => x).join(" · ")),
				canAck ? h("button", { type: "button", class: "s-secondary", i18n: "o_act_ack_conflict",
					on: { click: () => simple("ack-conflict", { conflict_id: c.id }) } }) : null)));
	}

	function attachmentsBlock(o) {
		const list = Array.isArray(o.attachments) ? o.attachments : [];
		const can = Array.isArray(o.actions) && o.actions.includes("add_attachment");
		const url = (a) => API + "/" + o.id + "/attachments/" + a.id;
		const file = h("input", { id: "so-file", type: "file", class: "so-file",
			accept: "image/jpeg,image/png,application/pdf" });
		return h("section", { id: "so-attachments", class: "s-card" },
			h("h3", { i18n: "o_attachments" }),
			list.length === 0 ? h("p", { class: "so-hint", i18n: "o_no_attachments" }) : null,
			h("div", { class: "so-att-list" }, ...list.map((a) =>
				h("div", { class: "so-att", "data-att": a.id },
					/^image\//.test(a.mime || "") && !isTech() ?
						h("img", { src: url(a), alt: a.name || "", class: "so-thumb" }) : null,
					h("span", { class: "so-att-name" }, (a.name || "") + (a.size ? " · " +
						Math.max(1, Math.round(a.size / 1024)) + " KB" : "")),
					isTech() ? null : h("a", { href: url(a), download: a.name || "", class: "s-small so-dl",
						i18n: "o_download" })))),
			can ? h("div", { class: "s-row so-upload" },
				staff.field("o_upload_hint", file),
				h("button", { id: "so-upload", type: "button", class: "s-secondary", i18n: "o_upload",
					on: { click: () => upload(file) } })) : null,
			h("p", { id: "so-upload-msg", class: "s-msg", role: "status", hidden: true }));
	}

	function historyBlock(o) {
		const hs = Array.isArray(o.history) ? o.history : [];
		return h("section", { id: "so-history", class: "s-card" },
			h("h3", { i18n: "o_history" }),
			h("ol", { class: "so-timeline" }, ...hs.map((e) =>
				h("li", {},
					h("span", { class: "so-tl-time" }, minute(e.at_ms)),
					h("span", { class: "so-tl-what" }, word("o_h_", String(e.action || "").replace(/^order\./, "")) +
						(e.to_state && e.to_state !== e.from_state ?
							" → " + word("o_st_", e.to_state, e.to_state_zh) : "")),
					h("span", { class: "so-tl-who" }, [e.actor, e.role ? word("role_", e.role) : ""]
						.filter((x) => x).join(" · ")),
					e.note ? h("span", { class: "so-tl-note" }, e.note) : null))));
	}

	function linksBlock(o) {
		const ls = Array.isArray(o.links) ? o.links : [];
		if (ls.length === 0 && !o.repeat_of) {
			return null;
		}
		return h("section", { class: "s-card so-links" },
			h("h3", { i18n: "o_links" }),
			h("ul", {}, ...ls.map((l) => h("li", {},
				h("span", { class: "so-number" }, l.other_number || ""),
				l.note ? " · " + l.note : "",
				l.other_id ? h("button", { type: "button", class: "s-small", text: "→",
					on: { click: () => openOrder(l.other_id) } }) : null))));
	}

	function dueText(ms, flag) {
		if (!ms) {
			return "";
		}
		return minute(ms) + (flag && flag !== "ok" ? " · " + word("o_fl_", flag) : "");
	}

	function renderOrder() {
		const o = st.order;
		const box = $("so-detail");
		if (!o || !box) {
			return;
		}
		const keepMsg = $("so-act-msg") && !$("so-act-msg").hidden ? $("so-act-msg").dataset : null;
		const co = (Array.isArray(o.co_depts) ? o.co_depts : []).map((d) =>
			deptName(typeof d === "string" ? d : d.code)).join("、");
		const ext = o.extension && o.extension !== "none" ?
			[word("o_ext_", o.extension), minute(o.extension_due_ms), o.extension_reason,
				o.extension_basis].filter((x) => x).join(" · ") : "";
		const ret = o.return_reason ? [o.return_reason, o.return_basis].filter((x) => x).join(" · ") : "";
		box.replaceChildren(...[
			h("div", { class: "s-row" },
				h("button", { id: "so-back", type: "button", class: "s-secondary", i18n: "o_back",
					on: { click: () => {
						showList();
						search(st.page);
					} } })),
			h("header", { class: "so-head", "data-state": o.state },
				h("h3", {}, h("span", { id: "so-d-number", class: "so-number" }, o.number || ""), " ",
					o.title || ""),
				h("span", { id: "so-d-state", class: "so-state-chip so-st-" + o.state },
					word("o_st_", o.state, o.state_zh)),
				...chips(o)),
			noticesBlock(o),
			conflictsBlock(o),
			actionBar(o),
			h("section", { class: "s-card" },
				h("h3", { i18n: "o_fields" }),
				h("dl", { class: "so-fields" },
					kv("o_k_number", o.number),
					kv("o_k_channel", word("o_ch_", o.channel, o.channel_zh)),
					kv("o_k_category", word("o_cat_", o.category, o.category_zh)),
					kv("o_k_field", shell.lang() === "zh" && o.field_zh ? o.field_zh : o.field),
					kv("o_k_code", o.code),
					kv("o_k_urgency", word("o_urg_", o.urgency)),
					kv("o_k_complexity", o.complexity ? t("o_cpx_" + o.complexity) : ""),
					kv("o_k_location", o.location),
					kv("o_k_dispatch", minute(o.dispatch_ms)),
					kv("o_k_sign_due", o.state === "pending" ? dueText(o.sign_due_ms, o.due_flag) :
						minute(o.sign_due_ms)),
					kv("o_k_received", minute(o.received_ms)),
					kv("o_k_due", o.state === "pending" ? minute(o.due_ms) : dueText(o.due_ms, o.due_flag),
						"so-due-line"),
					kv("o_k_ext", ext),
					kv("o_k_return", ret),
					kv("o_k_city_reason", o.city_reason),
					kv("o_k_lead", o.lead_dept_name && o.lead_dept_name.zh ?
						(shell.lang() === "zh" ? o.lead_dept_name.zh : o.lead_dept_name.en || o.lead_dept_name.zh) :
						deptName(o.lead_dept)),
					kv("o_k_co", co),
					kv("o_k_handler", o.handler),
					kv("o_k_repeat_of", o.repeat_of),
					kv("o_k_redo", o.redo_count > 0 ? String(o.redo_count) : ""),
					kv("o_k_replied", minute(o.replied_ms)),
					kv("o_k_closed", minute(o.closed_ms)),
					kv("o_k_visit", o.visit && o.visit !== "none" ? word("o_visit_", o.visit) : ""),
					kv("o_k_lookup", o.lookup_code),
					kv("o_k_printed", t(o.printed ? "o_yes" : "o_no")),
					kv("o_k_content", o.content, "so-wide so-content"),
					kv("o_k_reply", o.reply, "so-wide so-reply"),
					kv("o_k_drafted_by", o.drafted_by),
					kv("o_k_signed_by", o.signed_by)),
				h("h4", { i18n: "o_k_contact" }),
				contactBlock(o)),
			linksBlock(o),
			attachmentsBlock(o),
			historyBlock(o)].filter((x) => x));
		if (keepMsg && keepMsg.say) {
			staff.say($("so-act-msg"), JSON.parse(keepMsg.say), keepMsg.kind);
		}
	}

	/* ---- actions ---- */

	function post(verb, body) {
		return staff.api("POST", API + "/" + st.order.id + "/" + verb, body);
	}

	async function simple(verb, body, msgKey) {
		staff.say($("so-act-msg"), null);
		try {
			took(await post(verb, body), msgKey || "o_done");
		} catch (e) {
			fail($("so-act-msg"), e);
		}
	}

	function ackNotice(id) {
		simple("ack-notice", { notice_id: id });
	}

	async function printSlip() {
		const msg = $("so-act-msg");
		const retry = $("so-print-retry");
		staff.say(msg, null);
		retry.hidden = true;
		try {
			took(await post("print"), "o_print_ok");
		} catch (e) {
			if (e.status === 401) {
				return;
			}
			staff.say(msg, staff.errMsg(e));
			retry.hidden = !/^printer_/.test(e.code);
		}
	}

	function textArea(id, rows) {
		return h("textarea", { id, class: "s-input so-text", rows: String(rows || 4), maxlength: "4000" });
	}

	/* A required input: its value, or a message in the dialog and null. */
	function need(msg, input, labelKey) {
		const v = input.value.trim();
		if (v === "") {
			staff.say(msg, { key: "o_need", vars: { what: t(labelKey) } });
			input.focus();
			return null;
		}
		return v;
	}

	function form(textKey, body, confirmKey, run) {
		staff.dialog({
			text: { key: textKey },
			body: h("div", { class: "so-form" }, ...body),
			confirmKey: confirmKey || "o_ok",
			run: async (msg) => {
				const r = await run(msg);
				if (r === false) {
					return false;
				}
				took(r, "o_done");
				return true;
			},
		});
	}

	function deptSelect(id, value) {
		return h("select", { id, class: "s-input" },
			...st.depts.filter((d) => d.active !== false || d.code === value).map((d) =>
				h("option", { value: d.code, selected: d.code === value }, deptName(d.code))));
	}

	function act(a) {
		const o = st.order;
		if (a === "print") {
			printSlip();
			return;
		}
		if (a === "sign") {
			staff.dialog({ text: { key: "o_confirm_sign" }, confirmKey: "o_act_sign",
				run: async () => took(await post("sign"), "o_done") });
			return;
		}
		if (a === "sign_off") {
			staff.dialog({ text: { key: "o_confirm_sign_off" }, confirmKey: "o_act_sign_off",
				run: async () => took(await post("sign-off"), "o_done") });
			return;
		}
		if (a === "assign") {
			const lead = deptSelect("so-lead", o.lead_dept);
			const current = (Array.isArray(o.co_depts) ? o.co_depts : []).map((d) =>
				typeof d === "string" ? d : d.code);
			const cos = h("div", { id: "so-co", class: "so-checks" },
				...st.depts.filter((d) => d.active !== false).map((d) =>
					h("label", { class: "so-check" },
						h("input", { type: "checkbox", value: d.code, checked: current.includes(d.code) }),
						h("span", {}, deptName(d.code)))));
			const cpx = h("select", { id: "so-cpx", class: "s-input" },
				h("option", { value: "", i18n: "o_cpx_keep" }),
				...["simple", "complex", "difficult"].map((x) =>
					h("option", { value: x, i18n: "o_cpx_" + x })));
			const note = h("input", { id: "so-note", class: "s-input", type: "text", maxlength: "400" });
			form("o_form_assign", [staff.field("o_l_lead", lead), h("div", { class: "s-field" },
				h("span", { i18n: "o_l_co" }), cos), staff.field("o_l_complexity", cpx),
			staff.field("o_l_note", note)], "o_act_assign", (msg) => {
				if (!lead.value) {
					staff.say(msg, { key: "o_need", vars: { what: t("o_l_lead") } });
					return false;
				}
				const body = {
					lead_dept: lead.value,
					co_depts: [...cos.querySelectorAll("input:checked")].map((i) => i.value)
						.filter((c) => c !== lead.value),
				};
				if (cpx.value) {
					body.complexity = cpx.value;
				}
				if (note.value.trim()) {
					body.note = note.value.trim();
				}
				return post("assign", body);
			});
			return;
		}
		if (a === "draft_reply") {
			const reply = textArea("so-reply", 8);
			reply.value = o.reply || "";
			form("o_form_draft", [staff.field("o_l_reply", reply)], "o_act_draft_reply", (msg) => {
				const v = need(msg, reply, "o_l_reply");
				return v === null ? false : post("draft-reply", { reply: v });
			});
			return;
		}
		if (a === "reject_draft") {
			const c = textArea("so-comment", 4);
			form("o_form_reject", [staff.field("o_l_comment", c)], "o_act_reject_draft", (msg) => {
				const v = need(msg, c, "o_l_comment");
				return v === null ? false : post("reject-draft", { comment: v });
			});
			return;
		}
		if (a === "request_return") {
			const reason = textArea("so-reason", 4);
			const basis = textArea("so-basis", 3);
			form("o_form_return", [staff.field("o_l_reason", reason), staff.field("o_l_basis", basis)],
				"o_act_request_return", (msg) => {
					const r = need(msg, reason, "o_l_reason");
					const b = r === null ? null : need(msg, basis, "o_l_basis");
					return b === null ? false : post("request-return", { reason: r, basis: b });
				});
			return;
		}
		if (a === "request_extension") {
			const date = h("input", { id: "so-new-due", type: "date", class: "s-input" });
			const reason = textArea("so-reason", 4);
			const basis = textArea("so-basis", 3);
			form("o_form_ext", [staff.field("o_l_new_due", date), staff.field("o_l_reason", reason),
				staff.field("o_l_ext_basis", basis)], "o_act_request_extension", (msg) => {
				const d = need(msg, date, "o_l_new_due");
				const r = d === null ? null : need(msg, reason, "o_l_reason");
				const b = r === null ? null : need(msg, basis, "o_l_ext_basis");
				return b === null ? false :
					post("request-extension", { new_due_date: d, reason: r, basis: b });
			});
			return;
		}
		if (a === "link_repeat") {
			const num = h("input", { id: "so-link-number", type: "text", class: "s-input", maxlength: "31",
				autocomplete: "off" });
			const note = h("input", { id: "so-note", class: "s-input", type: "text", maxlength: "400" });
			form("o_form_link", [staff.field("o_l_number", num), staff.field("o_l_note", note)],
				"o_act_link_repeat", (msg) => {
					const v = need(msg, num, "o_l_number");
					const body = { number: v };
					if (note.value.trim()) {
						body.note = note.value.trim();
					}
					return v === null ? false : post("link-repeat", body);
				});
		}
	}

	async function upload(input) {
		const msg = $("so-upload-msg");
		const f = input.files && input.files[0];
		staff.say(msg, null);
		if (!f) {
			staff.say(msg, { key: "o_need", vars: { what: t("o_upload_hint") } });
			return;
		}
		try {
			const r = await staff.api("POST", API + "/" + st.order.id + "/attachments?name=" +
				encodeURIComponent(f.name), f);
			took(r);
			staff.say($("so-upload-msg"), { key: "o_uploaded" }, "ok");
		} catch (e) {
			fail(msg, e);
		}
	}

	function renderOrders() {
		if (!$("sh-orders")) {
			return;
		}
		for (const el of document.querySelectorAll("#sh-orders [data-word]")) {
			el.textContent = el.dataset.word.startsWith("o_fl_") ?
				flagWord(el.dataset.word.slice(5)) : t(el.dataset.word);
		}
		for (const el of document.querySelectorAll("#sh-orders [data-ph]")) {
			el.placeholder = t(el.dataset.ph);
		}
		fillDepts();
		renderHome();
		renderList();
		if (st.order) {
			renderOrder();
		}
	}

	/* ================= supervisor: figures ================= */

	function buildDash() {
		return h("div", { id: "sh-orders-dash", class: "sh-section so-dash", hidden: true },
			h("form", { id: "sd-form", class: "so-filter", novalidate: true, on: { submit: (e) => {
				e.preventDefault();
				loadDash();
			} } },
			staff.field("o_dash_from", h("input", { id: "sod-from", type: "date", class: "s-input" })),
			staff.field("o_dash_to", h("input", { id: "sod-to", type: "date", class: "s-input" })),
			h("button", { type: "submit", class: "s-primary", i18n: "o_dash_show" })),
			h("p", { id: "sod-msg", class: "s-msg", role: "status", hidden: true }),
			h("div", { id: "sod-cards", class: "so-band" }),
			h("div", { id: "sod-charts", class: "q-charts" }));
	}

	function openDash() {
		if (!$("sod-to").value) {
			const now = Date.now();
			$("sod-to").value = day(now);
			$("sod-from").value = day(now - 29 * 86400000);
		}
		loadDash();
	}

	/* Local midnight of a YYYY-MM-DD input, in ms; NaN when empty. */
	function midnight(v) {
		const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
		return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : NaN;
	}

	async function loadDash() {
		const from = midnight($("sod-from").value);
		const end = midnight($("sod-to").value);
		staff.say($("sod-msg"), null);
		if (!(from <= end)) {
			staff.say($("sod-msg"), { key: "o_dash_bad_range" });
			return;
		}
		const d = new Date(end);
		const to = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
		try {
			st.dash = await staff.api("GET", API + "/dashboard?from=" + from + "&to=" + to);
			renderDash();
		} catch (e) {
			fail($("sod-msg"), e);
		}
	}

	function rate(v) {
		return typeof v === "number" ? Math.round(v * 1000) / 10 + "%" : t("o_na");
	}

	function renderDash() {
		const d = st.dash;
		const box = $("sod-charts");
		if (!d || !box) {
			return;
		}
		$("sod-cards").replaceChildren(...[
			["o_dash_total", String(d.total || 0), "sod-total"],
			["o_dash_on_time", rate(d.on_time_rate), "sod-on-time"],
			["o_dash_resolution", rate(d.resolution_rate), "sod-resolution"],
			["o_dash_satisfaction", rate(d.satisfaction_rate), "sod-satisfaction"],
		].map(([k, v, id]) => h("div", { id, class: "so-card" },
			h("span", { class: "so-card-n" }, v), h("span", { class: "so-card-k", i18n: k }))));
		if (!d.total) {
			box.replaceChildren(h("p", { class: "s-msg", "data-kind": "text", i18n: "o_dash_empty" }));
			return;
		}
		const pct = (v) => Math.round(v * 1000) / 10 + "%";
		const num = (v) => fmt("o_n", { n: v });
		const rv = (v) => (typeof v === "number" ? v : null);
		const depts = Array.isArray(d.overdue_by_dept) ? d.overdue_by_dept : [];
		const cats = Array.isArray(d.by_category) ? d.by_category : [];
		const states = Array.isArray(d.by_state) ? d.by_state : [];
		const label = (zh, en, v) => (shell.lang() === "zh" ? zh || en : en || zh) || v || "";
		box.replaceChildren(
			staff.barChart("sod-rates", "o_dash_rates", [
				{ label: t("o_dash_on_time"), values: [rv(d.on_time_rate)] },
				{ label: t("o_dash_resolution"), values: [rv(d.resolution_rate)] },
				{ label: t("o_dash_satisfaction"), values: [rv(d.satisfaction_rate)] },
			], [{ key: "o_dash_rate", cls: "so-bar-rate" }], pct),
			staff.barChart("sod-dept", "o_dash_overdue_dept", depts.map((x) => ({
				label: label(x.name_zh, x.name_en, x.dept), values: [x.overdue || 0],
			})), [{ key: "o_dash_overdue", cls: "so-bar-overdue" }], num),
			staff.barChart("sod-category", "o_dash_by_category", cats.map((x) => ({
				label: shell.lang() === "zh" ? x.zh || x.category : word("o_cat_", x.category, x.zh),
				values: [x.count || 0],
			})), [{ key: "o_dash_count", cls: "so-bar-count" }], num),
			staff.barChart("sod-state", "o_dash_by_state", states.map((x) => ({
				label: word("o_st_", x.state, x.zh), values: [x.count || 0],
			})), [{ key: "o_dash_count", cls: "so-bar-count" }], num));
	}

	/* ================= wiring ================= */

	shell.onRender(() => {
		renderOrders();
		if ($("sh-orders-dash") && !$("sh-orders-dash").hidden) {
			renderDash();
		}
	});

	staff.addTab({ tab: "orders", key: "o_tab", roles: ["staff", "supervisor", "technician"],
		first: true, build: buildOrders, open: openOrders, render: renderOrders, close: closeOrders });
	staff.addTab({ tab: "orders-dash", key: "o_tab_dash", roles: ["supervisor"],
		build: buildDash, open: openDash, render: renderDash });
})();
