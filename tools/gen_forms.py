"""Generate forms/<key>.schema.json (+ .ui.json). First authoring pass; the JSON files are the
source of truth once committed.  Run: python tools/gen_forms.py
"""
from __future__ import annotations

import json
import pathlib

FORMS = pathlib.Path(__file__).resolve().parent.parent / "forms"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def S(title, n=100, **kw):
    return {"type": "string", "title": title, "maxLength": n, **kw}


def T(title, n=1000):  # textarea
    return {"type": "string", "title": title, "maxLength": n}


def E(title, opts: dict, **kw):
    return {"type": "string", "title": title, "enum": list(opts), "x-enumNames": list(opts.values()), **kw}


def EM(title, opts: dict, **kw):  # multi-select
    return {"type": "array", "title": title, "uniqueItems": True, "minItems": 1,
            "items": {"type": "string", "enum": list(opts), "x-enumNames": list(opts.values())}, **kw}


def D(title):
    return {"type": "string", "title": title, "format": "date"}


def DT(title):
    return {"type": "string", "title": title, "format": "date-time"}


def I(title, lo=None, hi=None, **kw):
    d = {"type": "integer", "title": title, **kw}
    if lo is not None:
        d["minimum"] = lo
    if hi is not None:
        d["maximum"] = hi
    return d


def N(title, lo=0, **kw):
    return {"type": "number", "title": title, "minimum": lo, **kw}


def B(title, **kw):
    return {"type": "boolean", "title": title, **kw}


def A(title):
    return {"type": "string", "title": title, "format": "attachment", "maxLength": 200}


def AA(title, n=10):
    return {"type": "array", "title": title, "maxItems": n, "items": A(title)}


def ARR(title, item_props: dict, required, n=20, **kw):
    return {"type": "array", "title": title, "maxItems": n,
            "items": {"type": "object", "properties": item_props, "required": required,
                      "additionalProperties": False}, **kw}


def schema(key, title, props, required, *, extra=None, ui=None, description=None):
    s = {"$schema": DRAFT, "$id": f"forms/{key}.schema.json", "title": title, "type": "object",
         "properties": props, "required": required}
    if description:
        s["description"] = description
    if extra:
        s.update(extra)
    FORMS.mkdir(exist_ok=True)
    (FORMS / f"{key}.schema.json").write_text(json.dumps(s, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
    if ui:
        ui.setdefault("order", list(props))
        (FORMS / f"{key}.ui.json").write_text(json.dumps(ui, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")


def review(key, title, base_props, outcomes: dict, more: dict | None = None, more_required=(),
           reason_required_for=("reject",), extra_rules=()):
    """A reviewer's form: the applicant's fields (made read-only per step in the BPMN) + outcome,
    comment and step fields.  A reason is required for rejecting outcomes."""
    props = dict(base_props)
    props["outcome"] = E("审批结果", outcomes)
    props["comment"] = T("审批意见", 500)
    props.update(more or {})
    rules = [{"if": {"properties": {"outcome": {"const": o}}, "required": ["outcome"]},
              "then": {"required": ["comment"]}} for o in reason_required_for]
    rules += list(extra_rules)
    extra = {"allOf": rules} if rules else None
    schema(key, title, props, ["outcome", *more_required], extra=extra,
           ui={"order": ["outcome", "comment", *(more or {}), *base_props],
               "widgets": {"comment": "textarea", "outcome": "radio"},
               "help": {"comment": "拒绝/退回时必须填写原因"}})


APPROVE = {"approve": "同意", "reject": "不同意"}

# ------------------------------------------------------------------ medical record copy
MR = {
    "institution": S("就诊机构编码", 32),
    "patient_name": S("患者姓名", 50),
    "id_number": S("身份证号", 18, pattern="^[0-9]{17}[0-9Xx]$"),
    "phone": S("手机号", 11, pattern="^1[0-9]{10}$"),
    "admission_date": D("入院日期"),
    "discharge_date": D("出院日期"),
    "purpose": E("复印用途", {"self": "自留", "insurance": "商业保险理赔", "medical_insurance": "医保报销",
                          "legal": "司法/鉴定", "transfer": "转院就医", "other": "其他"}),
    "purpose_other": S("其他用途说明", 200),
    "scope": EM("复印范围", {"front_page": "病案首页", "discharge_summary": "出院小结",
                         "admission_record": "入院记录", "operation_record": "手术记录",
                         "exam_reports": "检查报告", "lab_reports": "检验报告",
                         "orders": "医嘱单", "nursing_record": "护理记录", "all": "全部"}),
    "copies": I("份数", 1, 10, default=1),
    "delivery": E("领取方式", {"electronic": "电子版下载", "mail": "邮寄", "pickup": "窗口自取"}),
    "address": S("邮寄地址", 200),
    "identity_front": A("身份证人像面"),
    "identity_back": A("身份证国徽面"),
    "is_agent": B("代办", default=False),
    "agent_name": S("代办人姓名", 50),
    "agent_id_number": S("代办人身份证号", 18, pattern="^[0-9]{17}[0-9Xx]$"),
    "agent_relation": E("与患者关系", {"spouse": "配偶", "parent": "父母", "child": "子女",
                                  "other_relative": "其他亲属", "legal_agent": "法定代理人"}),
    "agent_authorization": A("授权委托书"),
    "review_levels_requested": I("指定审核级数（0=按机构配置）", 0, 2, default=0),
}
MR_REQ = ["institution", "patient_name", "id_number", "phone", "admission_date", "discharge_date",
          "purpose", "scope", "delivery", "identity_front", "identity_back", "is_agent",
          "review_levels_requested"]
MR_RULES = [
    {"if": {"properties": {"is_agent": {"const": True}}, "required": ["is_agent"]},
     "then": {"required": ["agent_name", "agent_id_number", "agent_relation", "agent_authorization"]}},
    {"if": {"properties": {"delivery": {"const": "mail"}}, "required": ["delivery"]},
     "then": {"required": ["address"]}},
    {"if": {"properties": {"purpose": {"const": "other"}}, "required": ["purpose"]},
     "then": {"required": ["purpose_other"]}},
]


def medical_records():
    schema("medical_record_apply", "病案复印申请", MR, MR_REQ, extra={"allOf": MR_RULES},
           description="患者端/API 发起数据；代办时须上传授权委托书。",
           ui={"widgets": {"scope": "checkboxes", "purpose": "select"},
               "help": {"scope": "可多选；选择“全部”时复印整份病案",
                        "agent_authorization": "代办须上传患者签字的授权委托书"}})
    review("medical_record_review", "病案室审核", MR,
           {"approve": "通过", "reject": "拒绝", "more_materials": "补充材料"},
           more={"materials_requested": T("需补充的材料", 500),
                 "pages": I("复印页数", 1, 5000),
                 "fee_amount": N("复印费用（元）"),
                 "verified_items": EM("已核验项目", {"identity": "身份证件", "agent": "代办授权",
                                                   "scope": "复印范围"})},
           extra_rules=[
               {"if": {"properties": {"outcome": {"const": "approve"}}, "required": ["outcome"]},
                "then": {"required": ["pages", "fee_amount"]}},
               {"if": {"properties": {"outcome": {"const": "more_materials"}}, "required": ["outcome"]},
                "then": {"required": ["materials_requested"]}}])
    base = MR  # identity images are hidden at this step (hospital:hiddenFields)
    schema("medical_record_upload", "上传病案复印件", {
        **base,
        "outcome": E("结果", {"uploaded": "已上传"}),
        "copy_files": AA("病案复印件（PDF）", 20),
        "page_count": I("实际页数", 1, 5000),
        "download_url": S("下载链接", 500, format="uri"),
        "tracking_no": S("邮寄单号", 50),
        "comment": T("备注", 500),
    }, ["outcome", "copy_files", "page_count"],
        ui={"order": ["outcome", "copy_files", "page_count", "download_url", "tracking_no", "comment"],
            "widgets": {"comment": "textarea"}, "help": {"download_url": "由平台生成，30天内有效"}})


# ------------------------------------------------------------------ referral
REF = {
    "referral_type": E("转诊类型", {"normal": "普通转诊", "emergency": "紧急转诊", "difficult": "疑难病例"}),
    "patient_name": S("患者姓名", 50),
    "id_number": S("身份证号", 18, pattern="^[0-9]{17}[0-9Xx]$"),
    "phone": S("联系电话", 20),
    "gender": E("性别", {"male": "男", "female": "女"}),
    "age": I("年龄", 0, 150),
    "source_institution": S("转出机构", 32),
    "target_institution": S("转入机构", 32),
    "target_department": S("转入科室", 50),
    "diagnosis": S("初步诊断", 200),
    "reason": T("转诊原因/病情摘要", 2000),
    "attachments": ARR("转诊资料", {
        "kind": E("资料类型", {"front_page": "病案首页", "discharge_summary": "出院小结",
                            "exam_report": "检查报告", "lab_report": "检验报告", "dicom": "DICOM 影像",
                            "other": "其他"}),
        "file": A("文件"), "note": S("说明", 200)}, ["kind", "file"]),
}
REF_HEADER = list(REF)


def referrals():
    schema("referral_apply", "转诊申请", REF,
           ["referral_type", "patient_name", "id_number", "phone", "source_institution",
            "target_institution", "diagnosis", "reason"],
           ui={"widgets": {"reason": "textarea", "referral_type": "radio"},
               "help": {"referral_type": "紧急转诊不经转出科室审核，接收科室须30分钟内响应"}})
    review("referral_review", "转出科室审核", REF, APPROVE)
    review("referral_office_review", "转入医院转诊办审核", REF,
           {"accept": "接收", "reject": "拒绝", "request_info": "要求补充资料"},
           more={"info_requested": T("需补充的资料", 500)},
           extra_rules=[{"if": {"properties": {"outcome": {"const": "request_info"}},
                                "required": ["outcome"]}, "then": {"required": ["info_requested"]}}])
    review("referral_emergency_accept", "急诊接诊", REF, {"accept": "接诊", "reject": "拒收"},
           more={"receiving_doctor": S("接诊医生", 50), "expected_arrival": DT("预计到达时间"),
                 "green_channel": B("开通绿色通道")},
           extra_rules=[{"if": {"properties": {"outcome": {"const": "accept"}}, "required": ["outcome"]},
                         "then": {"required": ["receiving_doctor"]}}])
    schema("referral_supplement", "补充转诊资料", {
        **REF, "info_requested": T("需补充的资料", 500),
        "outcome": E("结果", {"submit": "提交"}), "supplement_note": T("补充说明", 1000)},
        ["outcome", "supplement_note"])
    schema("referral_consultation_arrange", "安排会诊", {
        **REF, "outcome": E("结果", {"submit": "提交"}),
        "consult_experts": {"type": "array", "title": "会诊专家（用户名）", "minItems": 2, "maxItems": 10,
                            "uniqueItems": True, "items": S("专家", 50)},
        "consult_time": DT("会诊时间"), "consult_mode": E("会诊方式", {"online": "线上", "onsite": "现场"})},
        ["outcome", "consult_experts", "consult_time"])
    schema("referral_consultation", "多学科会诊意见", {
        **REF,
        "outcome": E("会诊结论", {"approve": "建议转诊", "reject": "不建议转诊"}),
        "comment": T("会诊意见", 2000),
        "speciality": S("专业", 50),
        "opinions": ARR("会诊意见汇总（由引擎按会签收集）", {
            "expert": S("专家", 50), "speciality": S("专业", 50),
            "conclusion": E("结论", {"approve": "建议转诊", "reject": "不建议转诊"}),
            "opinion": T("意见", 2000), "signed_at": DT("签署时间")},
            ["expert", "conclusion", "opinion"], readOnly=True)},
        ["outcome", "comment"],
        ui={"order": ["outcome", "comment", "speciality", "opinions"],
            "widgets": {"comment": "textarea", "outcome": "radio"}})
    schema("referral_arrange", "预约号源/床位", {
        **REF, "outcome": E("结果", {"submit": "提交"}),
        "appointment_time": DT("就诊/入院时间"), "department": S("接诊科室", 50),
        "need_bed": B("需要住院床位"), "ward": S("病区", 50), "bed_no": S("床号", 20),
        "notice": T("就诊须知", 500)},
        ["outcome", "appointment_time", "department", "need_bed"])
    schema("referral_down_plan", "出院下转评估", {
        **REF, "outcome": E("结果", {"down_referral": "下转社区", "discharge_home": "出院不下转"}),
        "discharge_date": D("出院日期"),
        "discharge_summary": A("出院小结"),
        "community_institution": S("接收社区卫生服务中心", 32),
        "follow_up_days": I("随访期限（天）", 1, 90, default=7),
        "follow_up_plan": T("随访计划/注意事项", 1000)},
        ["outcome", "discharge_date"],
        extra={"allOf": [{"if": {"properties": {"outcome": {"const": "down_referral"}},
                                 "required": ["outcome"]},
                          "then": {"required": ["discharge_summary", "community_institution",
                                                "follow_up_days", "follow_up_plan"]}}]})
    down = {"patient_name": REF["patient_name"], "id_number": REF["id_number"], "phone": REF["phone"],
            "diagnosis": REF["diagnosis"], "discharge_summary": A("出院小结"),
            "follow_up_days": I("随访期限（天）", 1, 90), "follow_up_plan": T("随访计划", 1000)}
    review("referral_community_accept", "社区接收下转", down, {"accept": "接收", "reject": "拒收"},
           more={"responsible_doctor": S("责任医生", 50)})
    schema("referral_follow_up", "社区随访记录", {
        **down, "outcome": E("结果", {"done": "已随访"}),
        "follow_up_date": D("随访日期"),
        "method": E("随访方式", {"phone": "电话", "home": "上门", "clinic": "门诊"}),
        "condition": E("病情", {"stable": "稳定", "improved": "好转", "worse": "加重"}),
        "need_up_referral": B("需再次上转"),
        "record": T("随访记录", 2000)},
        ["outcome", "follow_up_date", "method", "condition", "record"])


# ------------------------------------------------------------------ approvals
LEAVE = {
    "applicant_name": S("申请人", 50), "employee_no": S("工号", 20), "department": S("科室", 50),
    "staff_type": E("人员类别", {"doctor": "医生", "nurse": "护士", "medtech": "医技", "admin_staff": "行政后勤"}),
    "leave_type": E("请假类型", {"annual": "年假", "sick": "病假", "personal": "事假", "marriage": "婚假",
                             "maternity": "产假", "bereavement": "丧假", "study": "进修/学习"}),
    "start_date": D("开始日期"), "end_date": D("结束日期"),
    "days": N("请假天数", 0.5, maximum=365, multipleOf=0.5),
    "reason": T("请假事由", 500),
    "handover": ARR("工作交接", {"item": S("交接事项", 200), "handover_to": S("交接人", 50),
                              "note": S("备注", 200)}, ["item", "handover_to"]),
    "attachment": A("证明材料（病假条等）"),
}
MEAL = {
    "applicant_name": S("申请人", 50), "department": S("科室", 50), "meal_date": D("用餐日期"),
    "meal_type": E("餐别", {"lunch": "午餐", "dinner": "晚餐"}),
    "guest_count": I("来宾人数", 1, 100),
    "guests": ARR("来宾", {"name": S("姓名", 50), "organization": S("单位", 100), "title": S("职务", 50)},
                  ["name", "organization"], n=100),
    "standard_per_person": N("人均标准（元）"), "amount": N("预计金额（元）"),
    "reason": T("事由", 500),
}
SURG = {
    "patient_name": S("患者姓名", 50), "inpatient_no": S("住院号", 20), "department": S("科室", 50),
    "diagnosis": S("术前诊断", 200), "operation_name": S("拟行手术", 200),
    "surgery_grade": I("手术分级", 1, 4), "new_technique": B("新技术新项目", default=False),
    "planned_date": D("拟手术日期"), "surgeon": S("主刀医生", 50),
    "assistants": {"type": "array", "title": "助手", "maxItems": 5, "items": S("助手", 50)},
    "anesthesia_method": E("麻醉方式", {"general": "全麻", "spinal": "椎管内麻醉", "nerve_block": "神经阻滞",
                                    "local": "局麻"}),
    "risk_assessment": T("风险评估及预案", 2000), "informed_consent": A("知情同意书"),
}
CLINIC = {
    "doctor_name": S("医生姓名", 50), "employee_no": S("工号", 20), "department": S("科室", 50),
    "start_date": D("停诊开始日期"), "end_date": D("停诊结束日期"),
    "session": E("停诊时段", {"am": "上午", "pm": "下午", "all": "全天"}),
    "reason": T("停诊原因", 500), "substitute_doctor": S("替诊医生", 50),
    "booked_count": I("已预约人数", 0),
}


def approvals():
    schema("leave_apply", "请假申请", LEAVE,
           ["applicant_name", "employee_no", "department", "staff_type", "leave_type", "start_date",
            "end_date", "days", "reason"],
           extra={"allOf": [{"if": {"properties": {"leave_type": {"const": "sick"}}, "required": ["leave_type"]},
                             "then": {"required": ["attachment"]}}]},
           ui={"widgets": {"reason": "textarea", "handover": "table"},
               "help": {"days": "≤3天科主任审批；临床/医技>3天或任何人员>15天增加医务处审批"}})
    review("leave_review", "请假审批", LEAVE, APPROVE)
    schema("guest_meal_apply", "客饭申请", MEAL,
           ["applicant_name", "department", "meal_date", "meal_type", "guest_count", "amount", "reason"],
           ui={"widgets": {"reason": "textarea", "guests": "table"},
               "help": {"amount": "超过1000元需财务处审批"}})
    review("guest_meal_review", "客饭审批", MEAL, APPROVE, more={"approved_amount": N("核定金额（元）")})
    schema("surgery_application_apply", "手术申请", SURG,
           ["patient_name", "inpatient_no", "department", "diagnosis", "operation_name", "surgery_grade",
            "new_technique", "planned_date", "surgeon", "anesthesia_method", "informed_consent"],
           extra={"allOf": [{"if": {"properties": {"surgery_grade": {"const": 4}}, "required": ["surgery_grade"]},
                             "then": {"required": ["risk_assessment"]}}]},
           ui={"widgets": {"risk_assessment": "textarea"},
               "help": {"surgery_grade": "四级手术或新技术新项目需医务处审批"}})
    review("surgery_application_review", "手术申请审批", SURG, APPROVE)
    schema("clinic_suspension_apply", "门诊停诊申请", CLINIC,
           ["doctor_name", "employee_no", "department", "start_date", "end_date", "session", "reason"],
           ui={"widgets": {"reason": "textarea", "session": "radio"},
               "help": {"substitute_doctor": "批准后系统自动通知已预约患者并释放号源"}})
    review("clinic_suspension_review", "门诊停诊审批", CLINIC, APPROVE)


# ------------------------------------------------------------------ day surgery
DS = {
    "patient_name": S("患者姓名", 50), "patient_id": S("患者ID/病历号", 30), "age": I("年龄", 0, 150),
    "gender": E("性别", {"male": "男", "female": "女"}), "phone": S("联系电话", 20),
    "diagnosis_code": S("诊断编码（ICD-10）", 10), "diagnosis_name": S("诊断名称", 200),
    "operation_name": S("拟行手术", 200), "surgeon": S("手术医生（用户名）", 50),
    "surgeon_day_surgery_qualified": B("手术医生具备日间手术资格"),
    "asa_class": I("ASA 分级", 1, 6), "planned_date": D("拟手术日期"),
    "pre_op_orders": ARR("院前检查检验医嘱", {"code": S("项目编码", 30), "name": S("项目名称", 100),
                                          "need_booking": B("需预约")}, ["code", "name"], n=50),
}


def day_surgery():
    schema("day_surgery_apply", "日间手术申请", DS,
           ["patient_name", "patient_id", "age", "gender", "phone", "diagnosis_code", "diagnosis_name",
            "operation_name", "surgeon", "surgeon_day_surgery_qualified", "asa_class", "planned_date"],
           ui={"widgets": {"pre_op_orders": "table"},
               "help": {"surgeon_day_surgery_qualified": "由 HIS 日间手术医生维护表带出",
                        "asa_class": "门诊初评，麻醉评估时确认"}})
    review("day_surgery_anaesthesia", "麻醉评估", DS, {"approve": "可行日间手术麻醉", "reject": "不适合"},
           more={"anesthesia_method": E("麻醉方式", {"general": "全麻", "spinal": "椎管内麻醉",
                                                 "nerve_block": "神经阻滞", "local": "局麻", "sedation": "镇静"}),
                 "extra_exams": ARR("补充检查", {"code": S("项目编码", 30), "name": S("项目名称", 100)},
                                    ["name"])},
           more_required=["asa_class"])
    schema("day_surgery_registration", "入院准备中心登记", {
        **DS, "outcome": E("结果", {"submit": "提交"}),
        "deposit_paid": B("已交预交金"), "deposit_amount": N("预交金（元）"),
        "contact_confirmed": B("已核对联系方式"), "comment": T("备注", 500)},
        ["outcome", "deposit_paid", "contact_confirmed"])
    schema("day_surgery_theatre", "日间手术室排程", {
        **DS, "outcome": E("结果", {"submit": "提交"}),
        "theatre": S("手术间", 20), "scheduled_at": DT("手术时间"), "sequence": I("台次", 1, 30),
        "admission_time": DT("入院报到时间")},
        ["outcome", "theatre", "scheduled_at"])
    schema("day_surgery_record", "日间手术记录", {
        **DS, "outcome": E("结果", {"submit": "提交"}),
        "operation_performed": S("实施手术", 200), "started_at": DT("开始时间"), "ended_at": DT("结束时间"),
        "findings": T("术中所见", 2000), "complications": T("并发症", 500), "record_file": A("手术记录文书")},
        ["outcome", "operation_performed", "started_at", "ended_at", "findings"])
    schema("day_surgery_discharge", "出院评估", {
        **DS, "outcome": E("结果", {"discharge": "出院", "convert_ward": "转普通病房"}),
        "pads_score": I("PADS 出院评分", 0, 10), "discharged_at": DT("出院时间"),
        "discharge_instructions": T("出院指导", 1000), "comment": T("备注", 500)},
        ["outcome"],
        extra={"allOf": [{"if": {"properties": {"outcome": {"const": "discharge"}}, "required": ["outcome"]},
                          "then": {"required": ["pads_score", "discharged_at"]}}]})
    schema("day_surgery_conversion", "转普通病房（变异登记）", {
        **DS, "outcome": E("结果", {"submit": "提交"}),
        "variance_reason": E("变异原因", {"complication": "术后并发症", "pain": "疼痛控制不佳",
                                       "bleeding": "出血", "anaesthesia": "麻醉相关", "social": "社会因素",
                                       "timeout": "超过24小时未出院", "other": "其他"}),
        "variance_detail": T("变异说明", 1000), "target_ward": S("转入病区", 50)},
        ["outcome", "variance_reason", "variance_detail", "target_ward"])
    schema("day_surgery_follow_up", "术后随访", {
        **DS, "outcome": E("随访结果", {"normal": "恢复正常", "abnormal": "异常需处理"}),
        "follow_up_at": DT("随访时间"), "method": E("方式", {"phone": "电话", "wechat": "微信", "clinic": "门诊"}),
        "pain_score": I("疼痛评分（NRS）", 0, 10),
        "symptoms": EM("症状", {"none": "无", "fever": "发热", "bleeding": "出血", "infection": "切口感染",
                             "nausea": "恶心呕吐", "other": "其他"}),
        "advice": T("处理建议", 1000)},
        ["outcome", "follow_up_at", "method", "pain_score"],
        extra={"allOf": [{"if": {"properties": {"outcome": {"const": "abnormal"}}, "required": ["outcome"]},
                          "then": {"required": ["advice"]}}]})


# ------------------------------------------------------------------ refund
RF = {
    "trigger": E("触发来源", {"his_notify_failed": "HIS 通知失败", "his_settlement_failed": "HIS 结算失败",
                          "requested": "患者/员工申请"}),
    "refund_request_id": S("退款请求号（幂等键）", 64),
    "order_no": S("平台订单号", 64), "institution": S("机构", 32),
    "patient_name": S("患者姓名", 50), "patient_id": S("患者ID", 30), "phone": S("手机号", 20),
    "id_number": S("身份证号", 18),
    "channel": E("支付渠道", {"alipay": "支付宝", "wechat": "微信", "unionpay": "银联", "cash": "现金"}),
    "paid_amount": N("实付金额（元）"), "refundable_amount": N("可退金额（元）"),
    "refund_amount": N("申请退款金额（元）", exclusiveMinimum=0),
    "paid_at": DT("支付时间"), "days_since_payment": I("距支付天数", 0),
    "reason": T("退费原因", 500),
}
RF_REQ = ["trigger", "refund_request_id", "order_no", "institution", "patient_name", "patient_id",
          "channel", "paid_amount", "refundable_amount", "refund_amount", "paid_at", "days_since_payment"]


def refunds():
    schema("refund_request", "退费请求", RF, RF_REQ,
           description="消息 refund_requested 或 API 发起的载荷；requested 须填写原因。",
           extra={"allOf": [{"if": {"properties": {"trigger": {"const": "requested"}}, "required": ["trigger"]},
                             "then": {"required": ["reason"]}}]},
           ui={"widgets": {"reason": "textarea"}, "help": {"refund_amount": "部分退费不得超过可退金额"}})
    review("refund_cashier_review", "收费员审核", RF, APPROVE,
           more={"verified_receipt": B("已核对票据/原路退回信息")}, more_required=["verified_receipt"])
    review("refund_finance_approval", "财务审批", RF, APPROVE)
    schema("refund_manual", "人工退费处理", {
        **RF, "manual_reason": S("转人工原因", 200),
        "outcome": E("处理结果", {"refunded_manually": "已线下退款", "rejected": "不予退款"}),
        "manual_method": E("退款方式", {"cash": "现金", "bank_transfer": "银行转账", "enterprise_pay": "企业付款"}),
        "voucher": A("退款凭证"), "comment": T("处理说明", 500)},
        ["outcome", "comment"],
        extra={"allOf": [{"if": {"properties": {"outcome": {"const": "refunded_manually"}},
                                 "required": ["outcome"]},
                          "then": {"required": ["manual_method", "voucher"]}}]})
    schema("refund_his_exception", "HIS 单边帐处理", {
        **RF, "outcome": E("处理结果", {"resolved": "已处理"}),
        "ledger_side": E("单边帐方向", {"platform": "平台多出", "his": "HIS 多出"}),
        "action": E("处理方式", {"his_manual_entry": "HIS 补录退费流水", "status_fix": "平台状态修正"}),
        "comment": T("处理说明", 500)},
        ["outcome", "action", "comment"])


if __name__ == "__main__":
    medical_records()
    referrals()
    approvals()
    day_surgery()
    refunds()
    print("\n".join(sorted(p.name for p in FORMS.iterdir())))
