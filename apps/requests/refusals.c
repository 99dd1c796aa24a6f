/*
 * What the 12345 hotline does not accept (DOMAIN.md, "What the city
 * accepts"), and where a citizen goes instead. The touchscreen shows this
 * before it takes any detail, and requests_file() refuses these kinds, so
 * the rule holds for staff and scripts as well. The table is data in C,
 * not configuration: it follows the national plan, and a change to it is
 * a firmware change that is reviewed like code.
 */
#include <string.h>

#include "requests/requests.h"

static const struct request_refusal refusals[] = {
	{ "litigation", "诉讼", "Litigation", "已经或应当通过诉讼解决的纠纷",
	  "Disputes that are, or must be, settled in court",
	  "请向有管辖权的人民法院起诉（诉讼服务中心）",
	  "File a case at the competent people's court (its litigation service centre)", "",
	  false },
	{ "arbitration", "仲裁", "Arbitration", "劳动人事争议、合同约定仲裁等应当仲裁的纠纷",
	  "Labour and personnel disputes, and contract disputes with an arbitration clause",
	  "劳动争议请到劳动人事争议仲裁委员会；合同纠纷请到约定的仲裁委员会",
	  "Labour disputes: the labour and personnel dispute arbitration committee; contract "
	  "disputes: the arbitration commission named in the contract",
	  "", false },
	{ "discipline", "纪检监察", "Discipline inspection", "反映党员、公职人员违纪违法问题",
	  "Reports of misconduct by Party members or public officials",
	  "请向纪委监委信访室反映，或拨打 12388 举报",
	  "Go to the letters and visits office of the discipline inspection and supervision "
	  "commission, or call 12388",
	  "12388", false },
	{ "reconsideration", "行政复议", "Administrative reconsideration",
	  "对行政机关作出的行政行为不服，申请复查",
	  "Challenging a decision an administrative agency made",
	  "请向行政复议机关（县级以上人民政府，由司法局办理）申请行政复议",
	  "Apply to the reconsideration body (the people's government, through its justice "
	  "bureau)",
	  "", false },
	{ "disclosure", "政府信息公开", "Government information disclosure", "申请公开政府信息",
	  "Applications for the disclosure of government information",
	  "请向掌握该信息的行政机关的政府信息公开工作机构提出申请",
	  "Apply to the information disclosure office of the agency that holds the information", "",
	  false },
	{ "petition", "信访", "Petitions already filed", "已经进入信访渠道办理的事项",
	  "Matters already in the letters and visits (petition) channel",
	  "请继续通过信访渠道办理，向受理的信访局（信访部门）了解进展",
	  "Keep to the petition channel: ask the letters and visits bureau that took it", "",
	  false },
	{ "secrets", "国家秘密、商业秘密", "State or trade secrets", "涉及国家秘密或商业秘密的事项",
	  "Matters involving state secrets or trade secrets",
	  "涉及国家安全请拨打 12339；商业秘密被侵犯请向市场监督管理部门或人民法院反映",
	  "For state security call 12339; for trade secrets, the market regulation authority "
	  "or the people's court",
	  "12339", false },
	{ "privacy", "个人隐私", "Personal privacy", "涉及他人个人隐私的事项",
	  "Matters that would expose another person's privacy",
	  "个人信息被侵害可向公安机关报案或向人民法院起诉",
	  "If your personal information was misused, report it to the police or go to the "
	  "people's court",
	  "", false },
	{ "morals", "违反公序良俗", "Against public order and morals",
	  "违反法律法规或公序良俗的诉求", "Requests against the law, public order or good morals",
	  "此类诉求不予受理", "Such requests cannot be accepted anywhere", "", false },
	{ "emergency_110", "报警求助", "Police emergency",
	  "正在发生的违法犯罪、危及人身财产安全的紧急情况",
	  "Crime in progress, danger to life or property", "请立即拨打 110", "Call 110 now", "110",
	  true },
	{ "emergency_119", "火警", "Fire", "火灾及其他灾害事故救援", "Fire and rescue",
	  "请立即拨打 119", "Call 119 now", "119", true },
	{ "emergency_120", "急救", "Medical emergency", "急病、受伤需要急救",
	  "Sudden illness or injury", "请立即拨打 120", "Call 120 now", "120", true },
	{ "emergency_122", "交通事故", "Traffic accident", "道路交通事故报警",
	  "Road traffic accidents", "请立即拨打 122", "Call 122 now", "122", true },
};

#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

const struct request_refusal *requests_refusals(size_t *n)
{
	if (n != NULL) {
		*n = NREFUSALS;
	}
	return refusals;
}

const struct request_refusal *requests_refusal_find(const char *kind)
{
	for (size_t i = 0; kind != NULL && i < NREFUSALS; i++) {
		if (strcmp(refusals[i].kind, kind) == 0) {
			return &refusals[i];
		}
	}
	return NULL;
}

cJSON *requests_refusals_json(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *m = cJSON_AddArrayToObject(o, "matters");
	cJSON *e = cJSON_AddArrayToObject(o, "emergencies");

	if (o == NULL || m == NULL || e == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < NREFUSALS; i++) {
		const struct request_refusal *r = &refusals[i];
		cJSON *x = cJSON_CreateObject();

		if (x == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToArray(r->emergency ? e : m, x);
		cJSON_AddStringToObject(x, "kind", r->kind);
		cJSON_AddStringToObject(x, "name_zh", r->name_zh);
		cJSON_AddStringToObject(x, "name_en", r->name_en);
		cJSON_AddStringToObject(x, "why_zh", r->why_zh);
		cJSON_AddStringToObject(x, "why_en", r->why_en);
		cJSON_AddStringToObject(x, "where_zh", r->where_zh);
		cJSON_AddStringToObject(x, "where_en", r->where_en);
		cJSON_AddStringToObject(x, "phone", r->phone);
	}
	return o;
}
