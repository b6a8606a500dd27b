"""Generate processes/<family>/<key>.bpmn and .dmn (first authoring pass; see bpmn_builder.py).

Run:  python tools/gen_processes.py
"""
from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bpmn_builder import Process, dmn  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent / "processes"

OUT = {}


def save(family, name, text):
    p = ROOT / family / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    OUT[str(p.relative_to(ROOT.parent))] = True


APPLICANT_MR = ("institution,patient_name,id_number,phone,admission_date,discharge_date,purpose,"
                "scope,copies,delivery,address,identity_front,identity_back,is_agent,agent_name,"
                "agent_id_number,agent_relation,agent_authorization")


# =============================================================== 1. medical record copy
def medical_record_copy():
    p = Process("medical_record_copy", "一键式病案复印",
                title="{patient_name} 病案复印申请（{institution}）",
                start_roles="records_clerk",
                documentation="一键式病案：患者通过健康静安 H5 / 患者端 API 发起，身份核验→归档检索→"
                              "病案室审核（一级或二级）→缴费→上传→下载/链接过期。")
    p.start("start", "患者提交病案复印申请", 0, 2, form="medical_record_apply")
    p.service("identity_verify", "身份核验", 1, 2, topic="identity.verify",
              inputs={"id_number": "id_number", "name": "patient_name", "phone": "phone",
                      "agent_id_number": "agent_id_number if is_agent else None"},
              result="identity_result")
    p.xgw("gw_identity", "核验通过？", 2, 2)
    p.end("end_identity_failed", "身份核验失败", 3, 3)
    p.service("check_archive", "归档病案检索", 3, 2, topic="his.check_archive",
              inputs={"institution": "institution", "id_number": "id_number",
                      "admission_date": "admission_date", "discharge_date": "discharge_date"},
              result="archive_result")
    p.xgw("gw_archive", "有归档病案？", 4, 2)
    p.service("notify_no_archive", "通知患者无归档病案", 5, 3, topic="notify.patient",
              inputs={"template": '"medical_record_no_archive"', "patient_id": "id_number",
                      "phone": "phone", "institution": "institution"},
              result="notify_result")
    p.end("end_no_archive", "无归档病案", 5, 4)
    p.rule("decide_review_mode", "确定审核模式", 5, 2, "record_review_mode")
    p.user("records_review", "病案室初审", 6, 2, groups="records_clerk",
           form="medical_record_review", sla="P2D", escalation="notify",
           outcomes="approve,reject,more_materials", readonly=APPLICANT_MR,
           doc="初审：核对身份材料、授权书与复印范围；通过时填写页数与费用。")
    p.xgw("gw_review_outcome", "初审结果", 7, 2)
    p.user("records_second_review", "病案室复审", 8, 1, groups="records_head",
           form="medical_record_review", sla="P1D", escalation="notify",
           outcomes="approve,reject,more_materials", readonly=APPLICANT_MR,
           doc="二级审核模式的机构由病案室主任复审。")
    p.xgw("gw_second_outcome", "复审结果", 9, 1)
    p.service("notify_rejected", "通知患者审核未通过", 10, 0, topic="notify.patient",
              inputs={"template": '"medical_record_rejected"', "patient_id": "id_number",
                      "phone": "phone", "reason": "comment"}, result="notify_result")
    p.end("end_rejected", "审核未通过", 11, 0)
    p.service("notify_more_materials", "通知患者补充材料", 9, 3, topic="notify.patient",
              inputs={"template": '"medical_record_more_materials"', "patient_id": "id_number",
                      "phone": "phone", "materials": "materials_requested"}, result="notify_result")
    p.egw("gw_wait_materials", "等待补充材料", 10, 3)
    p.catch_msg("msg_materials_supplied", "患者已补充材料", 11, 3, "materials_supplied")
    p.catch_timer("timer_materials_expired", "7天未补充", 11, 4, '"P7D"')
    p.end("end_materials_expired", "补充材料逾期", 12, 4)
    p.xgw("gw_approved", "审核通过", 10, 2)
    p.service("notify_payment", "通知患者缴费", 11, 2, topic="notify.patient",
              inputs={"template": '"medical_record_payment"', "patient_id": "id_number",
                      "phone": "phone", "amount": "fee_amount"}, result="notify_result")
    p.egw("gw_wait_payment", "等待支付结果", 12, 2)
    p.catch_msg("msg_payment_result", "收到支付结果", 13, 2, "payment_result")
    p.catch_timer("timer_payment_expired", "7天未缴费", 13, 3, '"P7D"')
    p.end("end_unpaid", "缴费超时", 14, 3)
    p.xgw("gw_payment_ok", "支付成功？", 14, 2)
    p.end("end_payment_failed", "支付失败", 15, 1)
    p.user("records_upload", "病案室上传复印件", 15, 2, groups="records_clerk",
           form="medical_record_upload", due="P3D", sla="P3D", escalation="notify",
           outcomes="uploaded",
           readonly=APPLICANT_MR.replace("identity_front,identity_back,", ""),
           hidden="identity_front,identity_back")
    p.service("notify_ready", "通知患者下载", 16, 2, topic="notify.patient",
              inputs={"template": '"medical_record_ready"', "patient_id": "id_number",
                      "phone": "phone", "download_url": "download_url"}, result="notify_result")
    p.egw("gw_wait_download", "等待下载", 17, 2)
    p.catch_msg("msg_patient_downloaded", "患者已下载", 18, 2, "patient_downloaded")
    p.catch_timer("timer_link_expired", "30天链接过期", 18, 3, '"P30D"')
    p.end("end_completed", "已下载完成", 19, 2)
    p.end("end_link_expired", "下载链接过期", 19, 3)

    p.chain("start", "identity_verify", "gw_identity")
    p.flow("gw_identity", "check_archive", "通过", 'identity_result.get("verified") == True')
    p.flow("gw_identity", "end_identity_failed", "不通过", default=True)
    p.flow("check_archive", "gw_archive")
    p.flow("gw_archive", "decide_review_mode", "有", 'archive_result.get("found") == True')
    p.flow("gw_archive", "notify_no_archive", "无", default=True)
    p.flow("notify_no_archive", "end_no_archive")
    p.chain("decide_review_mode", "records_review", "gw_review_outcome")
    p.flow("gw_review_outcome", "records_second_review", "通过（二级审核）",
           'outcome == "approve" and review_levels == 2')
    p.flow("gw_review_outcome", "gw_approved", "通过（一级审核）",
           'outcome == "approve" and review_levels != 2', id="flow_review_to_approved")
    p.flow("gw_review_outcome", "notify_rejected", "拒绝", 'outcome == "reject"', route="vh")
    p.flow("gw_review_outcome", "notify_more_materials", "补充材料", default=True)
    p.flow("records_second_review", "gw_second_outcome")
    p.flow("gw_second_outcome", "gw_approved", "通过", 'outcome == "approve"')
    p.flow("gw_second_outcome", "notify_rejected", "拒绝", 'outcome == "reject"')
    p.flow("gw_second_outcome", "notify_more_materials", "补充材料", default=True)
    p.flow("notify_rejected", "end_rejected")
    p.chain("notify_more_materials", "gw_wait_materials", "msg_materials_supplied")
    p.flow("gw_wait_materials", "timer_materials_expired")
    p.flow("timer_materials_expired", "end_materials_expired")
    p.flow("msg_materials_supplied", "records_review", route="below")
    p.chain("gw_approved", "notify_payment", "gw_wait_payment", "msg_payment_result", "gw_payment_ok")
    p.flow("gw_wait_payment", "timer_payment_expired")
    p.flow("timer_payment_expired", "end_unpaid")
    p.flow("gw_payment_ok", "records_upload", "已支付", 'payment_result.get("status") == "paid"')
    p.flow("gw_payment_ok", "end_payment_failed", "失败", default=True)
    p.chain("records_upload", "notify_ready", "gw_wait_download", "msg_patient_downloaded", "end_completed")
    p.flow("gw_wait_download", "timer_link_expired")
    p.flow("timer_link_expired", "end_link_expired")
    save("medical_records", "medical_record_copy.bpmn", p.to_xml())

    save("medical_records", "record_review_mode.dmn", dmn(
        "record_review_mode", "病案审核模式", "FIRST",
        [("requested", "调用方指定审核级数", "review_levels_requested"),
         ("institution", "机构编码", "institution")],
        [("review_levels", "审核级数", "integer")],
        [(["? in (1, 2)", "-"], ["review_levels_requested"], "API 调用方显式指定"),
         (["-", '? in ("JA_CENTRAL", "JA_ZHABEI", "JA_SHIBEI", "JA_TCM")'], ["2"],
          "区级综合医院：初审+复审"),
         (["-", "-"], ["1"], "其他机构：病案室一级审核")]))


# =============================================================== 2. referral
def referral():
    tgt = "target_institution"
    com = "community_institution"
    p = Process("referral", "双向转诊",
                title="{patient_name} 转诊（{referral_type}）→ {target_institution}",
                start_roles="community_doctor,doctor",
                documentation="双向转诊：普通/紧急/疑难病例上转，到院闭环，出院下转社区并随访。")
    p.start("start", "基层医生发起转诊", 0, 3, form="referral_apply")
    p.xgw("gw_referral_type", "转诊类型", 1, 3)
    p.user("dept_approval", "转出科室审核", 2, 3, groups="dept_head", form="referral_review",
           sla="P1D", escalation="notify", readonly="patient_name,id_number,diagnosis,reason,attachments")
    p.xgw("gw_dept_outcome", "科室审核结果", 3, 3)
    p.end("end_dept_rejected", "科室未同意", 4, 4)
    p.user("emergency_accept", "接收科室急诊接诊", 2, 0, groups="doctor", form="referral_emergency_accept",
           sla="PT30M", due="PT30M", escalation="reassign:dept_head", institution=tgt,
           outcomes="accept,reject", readonly="patient_name,id_number,diagnosis,reason,attachments",
           doc="紧急转诊跳过转出科室审核；接收科室须在30分钟内响应，超时改派科主任。")
    p.xgw("gw_emergency_outcome", "急诊接诊结果", 3, 0)
    p.end("end_emergency_rejected", "急诊拒收", 4, 1)
    p.xgw("gw_route_type", "疑难病例？", 4, 3)
    p.user("referral_office_review", "转入医院转诊办审核", 5, 3, groups="referral_office",
           form="referral_office_review", sla="P1D", escalation="notify", institution=tgt,
           outcomes="accept,reject,request_info",
           readonly="patient_name,id_number,diagnosis,reason,attachments")
    p.xgw("gw_office_outcome", "审核结果", 6, 3)
    p.user("supplement_info", "转出医生补充资料", 5, 4, groups="community_doctor,doctor",
           form="referral_supplement", sla="P2D", assignee_expr="initiator", outcomes="submit")
    p.end("end_office_rejected", "转入医院拒绝", 7, 4)
    p.user("arrange_consultation", "转诊办安排会诊专家", 5, 2, groups="referral_office",
           form="referral_consultation_arrange", sla="P1D", institution=tgt, outcomes="submit")
    p.user("expert_consultation", "多学科专家会诊", 6, 2, groups="expert", form="referral_consultation",
           sla="P2D", escalation="notify", institution=tgt, countersign="all",
           signers="consult_experts", readonly="patient_name,id_number,diagnosis,reason,attachments",
           doc="会签：所有会诊专家均需给出意见；全部同意转诊则进入转诊队列。")
    p.xgw("gw_consult_outcome", "会诊结论", 7, 2)
    p.end("end_consult_declined", "会诊不建议转诊", 7, 1)
    p.xgw("gw_accepted", "已接收", 8, 3)
    p.user("arrange_admission", "预约号源/床位", 9, 3, groups="referral_office,admission_center",
           form="referral_arrange", sla="P1D", institution=tgt, outcomes="submit")
    p.service("notify_referral", "通知患者与转出医生", 10, 3, topic="notify.patient",
              inputs={"template": '"referral_arranged"', "patient_id": "id_number", "phone": "phone",
                      "appointment_time": "appointment_time", "institution": tgt},
              result="notify_result")
    p.egw("gw_wait_arrival", "等待到院", 11, 3)
    p.catch_msg("msg_his_arrival", "HIS 到院登记", 12, 3, "his_arrival")
    p.catch_timer("timer_no_show", "7天未到院", 12, 4, '"P7D"')
    p.end("end_no_show", "患者未到院", 13, 4)
    p.user("plan_down_referral", "出院下转评估", 13, 3, groups="doctor", form="referral_down_plan",
           institution=tgt, outcomes="down_referral,discharge_home")
    p.xgw("gw_down", "下转社区？", 14, 3)
    p.end("end_discharged_home", "出院不下转", 15, 2)
    p.user("community_accept", "社区接收下转", 15, 3, groups="community_doctor",
           form="referral_community_accept", sla="P2D", escalation="notify", institution=com,
           outcomes="accept,reject", readonly="discharge_summary,follow_up_days,follow_up_plan")
    p.xgw("gw_community_outcome", "社区接收？", 16, 3)
    p.user("community_follow_up", "社区随访", 17, 3, groups="community_doctor",
           form="referral_follow_up", institution=com, outcomes="done",
           readonly="discharge_summary,follow_up_plan")
    p.boundary_timer("timer_follow_up_due", "随访期限到", "community_follow_up",
                     '"P%dD" % follow_up_days', interrupting=False)
    p.service("notify_follow_up_overdue", "催办随访", 18, 4, topic="notify.sms",
              inputs={"template": '"referral_follow_up_overdue"', "institution": com,
                      "role": '"community_doctor"', "patient_name": "patient_name"},
              result="sms_result")
    p.end("end_overdue_notified", "已催办", 19, 4)
    p.end("end_closed_loop", "转诊闭环完成", 18, 3)

    p.flow("start", "gw_referral_type")
    p.flow("gw_referral_type", "emergency_accept", "紧急", 'referral_type == "emergency"')
    p.flow("gw_referral_type", "dept_approval", "普通/疑难", default=True)
    p.flow("dept_approval", "gw_dept_outcome")
    p.flow("gw_dept_outcome", "gw_route_type", "同意", 'outcome == "approve"')
    p.flow("gw_dept_outcome", "end_dept_rejected", "不同意", default=True)
    p.flow("emergency_accept", "gw_emergency_outcome")
    p.flow("gw_emergency_outcome", "gw_accepted", "接诊", 'outcome == "accept"', route="hv")
    p.flow("gw_emergency_outcome", "end_emergency_rejected", "拒收", default=True)
    p.flow("gw_route_type", "arrange_consultation", "疑难", 'referral_type == "difficult"')
    p.flow("gw_route_type", "referral_office_review", "普通", default=True)
    p.flow("referral_office_review", "gw_office_outcome")
    p.flow("gw_office_outcome", "gw_accepted", "接收", 'outcome == "accept"')
    p.flow("gw_office_outcome", "supplement_info", "补充资料", 'outcome == "request_info"', route="vh")
    p.flow("gw_office_outcome", "end_office_rejected", "拒绝", default=True)
    p.flow("supplement_info", "referral_office_review")
    p.chain("arrange_consultation", "expert_consultation", "gw_consult_outcome")
    p.flow("gw_consult_outcome", "gw_accepted", "建议转诊", 'outcome == "approve"', route="hv")
    p.flow("gw_consult_outcome", "end_consult_declined", "不建议", default=True)
    p.chain("gw_accepted", "arrange_admission", "notify_referral", "gw_wait_arrival", "msg_his_arrival",
            "plan_down_referral", "gw_down")
    p.flow("gw_wait_arrival", "timer_no_show")
    p.flow("timer_no_show", "end_no_show")
    p.flow("gw_down", "community_accept", "下转", 'outcome == "down_referral"')
    p.flow("gw_down", "end_discharged_home", "不下转", default=True)
    p.flow("community_accept", "gw_community_outcome")
    p.flow("gw_community_outcome", "community_follow_up", "接收", 'outcome == "accept"')
    p.flow("gw_community_outcome", "plan_down_referral", "拒收，改选社区", default=True, route="below")
    p.flow("community_follow_up", "end_closed_loop")
    p.flow("timer_follow_up_due", "notify_follow_up_overdue")
    p.flow("notify_follow_up_overdue", "end_overdue_notified")
    save("referral", "referral.bpmn", p.to_xml())


# =============================================================== 3. approvals
LEAVE_APPLICANT = ("applicant_name,employee_no,department,staff_type,leave_type,start_date,end_date,"
                   "days,reason,handover,attachment")


def leave_request():
    p = Process("leave_request", "请假审批", title="{applicant_name} 请假 {days}天",
                start_roles="staff,doctor,nurse",
                documentation="请假：DMN leave_routing 按天数与人员类别决定一级（科主任）或二级（科主任→医务处）审批。")
    p.start("start", "提交请假申请", 0, 2, form="leave_apply")
    p.rule("decide_leave_routing", "确定审批路径", 1, 2, "leave_routing")
    p.user("dept_head_review", "科主任审批", 2, 2, groups="dept_head", form="leave_review",
           sla="P1D", escalation="notify", readonly=LEAVE_APPLICANT)
    p.xgw("gw_dept_outcome", "科主任意见", 3, 2)
    p.end("end_rejected", "未批准", 4, 3)
    p.user("medical_affairs_review", "医务处审批", 4, 1, groups="medical_affairs", form="leave_review",
           sla="P2D", escalation="notify", readonly=LEAVE_APPLICANT)
    p.xgw("gw_ma_outcome", "医务处意见", 5, 1)
    p.end("end_ma_rejected", "医务处未批准", 6, 0)
    p.xgw("gw_approved", "已批准", 6, 2)
    p.script("record_leave", "登记假期", 7, 2,
             'leave_status = "approved"\napproved_days = days')
    p.end("end_approved", "请假已批准", 8, 2)
    p.chain("start", "decide_leave_routing", "dept_head_review", "gw_dept_outcome")
    p.flow("gw_dept_outcome", "medical_affairs_review", "同意（需医务处）",
           'outcome == "approve" and approval_levels >= 2')
    p.flow("gw_dept_outcome", "gw_approved", "同意", 'outcome == "approve" and approval_levels < 2')
    p.flow("gw_dept_outcome", "end_rejected", "拒绝", default=True)
    p.flow("medical_affairs_review", "gw_ma_outcome")
    p.flow("gw_ma_outcome", "gw_approved", "同意", 'outcome == "approve"')
    p.flow("gw_ma_outcome", "end_ma_rejected", "拒绝", default=True)
    p.chain("gw_approved", "record_leave", "end_approved")
    save("approvals", "leave_request.bpmn", p.to_xml())
    clinical = '? in ("doctor", "nurse", "medtech")'
    save("approvals", "leave_routing.dmn", dmn(
        "leave_routing", "请假审批路径", "FIRST",
        [("days", "请假天数", "days"), ("staff_type", "人员类别", "staff_type")],
        [("approval_levels", "审批级数", "integer"), ("approval_route", "审批路径", "string")],
        [(["? <= 3", "-"], ["1", '"科主任"'], "3天及以内：科主任审批"),
         (["? > 3", clinical], ["2", '"科主任→医务处"'], "临床/医技人员超过3天：加医务处"),
         (["? > 15", "-"], ["2", '"科主任→医务处"'], "任何人员超过15天：加医务处"),
         (["-", "-"], ["1", '"科主任"'], "行政后勤 4–15 天：科主任审批")]))


MEAL_APPLICANT = ("applicant_name,department,meal_date,meal_type,guest_count,guests,"
                  "standard_per_person,amount,reason")


def guest_meal():
    p = Process("guest_meal", "客饭审批", title="{applicant_name} 客饭 {guest_count}人 ¥{amount}",
                start_roles="staff,doctor,nurse,dept_head",
                documentation="客饭：科主任审批；金额超过1000元增加财务处审批。")
    p.start("start", "提交客饭申请", 0, 2, form="guest_meal_apply")
    p.user("dept_head_review", "科主任审批", 1, 2, groups="dept_head", form="guest_meal_review",
           sla="P1D", escalation="notify", readonly=MEAL_APPLICANT)
    p.xgw("gw_dept_outcome", "科主任意见", 2, 2)
    p.end("end_rejected", "未批准", 3, 3)
    p.user("finance_review", "财务处审批", 3, 1, groups="finance", form="guest_meal_review",
           sla="P2D", escalation="notify", readonly=MEAL_APPLICANT)
    p.xgw("gw_finance_outcome", "财务意见", 4, 1)
    p.end("end_finance_rejected", "财务未批准", 5, 0)
    p.xgw("gw_approved", "已批准", 5, 2)
    p.end("end_approved", "客饭已批准", 6, 2)
    p.chain("start", "dept_head_review", "gw_dept_outcome")
    p.flow("gw_dept_outcome", "finance_review", "同意且>1000元", 'outcome == "approve" and amount > 1000')
    p.flow("gw_dept_outcome", "gw_approved", "同意", 'outcome == "approve" and amount <= 1000')
    p.flow("gw_dept_outcome", "end_rejected", "拒绝", default=True)
    p.flow("finance_review", "gw_finance_outcome")
    p.flow("gw_finance_outcome", "gw_approved", "同意", 'outcome == "approve"')
    p.flow("gw_finance_outcome", "end_finance_rejected", "拒绝", default=True)
    p.flow("gw_approved", "end_approved")
    save("approvals", "guest_meal.bpmn", p.to_xml())


SURGERY_APPLICANT = ("patient_name,inpatient_no,department,diagnosis,operation_name,surgery_grade,"
                     "new_technique,planned_date,surgeon,assistants,anesthesia_method,"
                     "risk_assessment,informed_consent")


def surgery_application():
    p = Process("surgery_application", "手术申请审批",
                title="{patient_name} {operation_name}（{surgery_grade}级）手术申请",
                start_roles="doctor",
                documentation="手术申请：科主任审批；四级手术或新技术新项目增加医务处审批。")
    p.start("start", "提交手术申请", 0, 2, form="surgery_application_apply")
    p.user("dept_head_review", "科主任审批", 1, 2, groups="dept_head", form="surgery_application_review",
           sla="PT8H", escalation="notify", readonly=SURGERY_APPLICANT)
    p.xgw("gw_dept_outcome", "科主任意见", 2, 2)
    p.end("end_rejected", "未批准", 3, 3)
    p.user("medical_affairs_review", "医务处审批", 3, 1, groups="medical_affairs",
           form="surgery_application_review", sla="P1D", escalation="notify", readonly=SURGERY_APPLICANT)
    p.xgw("gw_ma_outcome", "医务处意见", 4, 1)
    p.end("end_ma_rejected", "医务处未批准", 5, 0)
    p.xgw("gw_approved", "已批准", 5, 2)
    p.end("end_approved", "手术申请已批准", 6, 2)
    p.chain("start", "dept_head_review", "gw_dept_outcome")
    p.flow("gw_dept_outcome", "medical_affairs_review", "同意（四级/新技术）",
           'outcome == "approve" and (surgery_grade == 4 or new_technique == True)')
    p.flow("gw_dept_outcome", "gw_approved", "同意",
           'outcome == "approve" and surgery_grade != 4 and new_technique != True')
    p.flow("gw_dept_outcome", "end_rejected", "拒绝", default=True)
    p.flow("medical_affairs_review", "gw_ma_outcome")
    p.flow("gw_ma_outcome", "gw_approved", "同意", 'outcome == "approve"')
    p.flow("gw_ma_outcome", "end_ma_rejected", "拒绝", default=True)
    p.flow("gw_approved", "end_approved")
    save("approvals", "surgery_application.bpmn", p.to_xml())


CLINIC_APPLICANT = ("doctor_name,employee_no,department,start_date,end_date,session,reason,"
                    "substitute_doctor,booked_count")


def clinic_suspension():
    p = Process("clinic_suspension", "门诊停诊审批",
                title="{doctor_name} 停诊 {start_date}~{end_date}", start_roles="doctor,dept_head",
                documentation="门诊停诊：科主任→医务处审批；批准后并行通知已预约患者、释放号源。")
    p.start("start", "提交停诊申请", 0, 2, form="clinic_suspension_apply")
    p.user("dept_head_review", "科主任审批", 1, 2, groups="dept_head", form="clinic_suspension_review",
           sla="PT4H", escalation="notify", readonly=CLINIC_APPLICANT)
    p.xgw("gw_dept_outcome", "科主任意见", 2, 2)
    p.end("end_rejected", "未批准", 3, 3)
    p.user("medical_affairs_review", "医务处（门诊办）审批", 3, 2, groups="medical_affairs",
           form="clinic_suspension_review", sla="PT4H", escalation="notify", readonly=CLINIC_APPLICANT)
    p.xgw("gw_ma_outcome", "医务处意见", 4, 2)
    p.end("end_ma_rejected", "医务处未批准", 5, 3)
    p.pgw("gw_fork", "并行处理", 5, 2)
    p.service("notify_patients", "通知已预约患者", 6, 1, topic="clinic.notify_patients",
              inputs={"department": "department", "doctor": "employee_no", "start_date": "start_date",
                      "end_date": "end_date", "session": "session",
                      "substitute_doctor": "substitute_doctor"}, result="notify_patients_result")
    p.service("release_slots", "释放号源", 6, 3, topic="clinic.release_slots",
              inputs={"department": "department", "doctor": "employee_no", "start_date": "start_date",
                      "end_date": "end_date", "session": "session"}, result="release_slots_result")
    p.pgw("gw_join", "汇合", 7, 2)
    p.end("end_approved", "停诊已生效", 8, 2)
    p.chain("start", "dept_head_review", "gw_dept_outcome")
    p.flow("gw_dept_outcome", "medical_affairs_review", "同意", 'outcome == "approve"')
    p.flow("gw_dept_outcome", "end_rejected", "拒绝", default=True)
    p.flow("medical_affairs_review", "gw_ma_outcome")
    p.flow("gw_ma_outcome", "gw_fork", "同意", 'outcome == "approve"')
    p.flow("gw_ma_outcome", "end_ma_rejected", "拒绝", default=True)
    p.flow("gw_fork", "notify_patients")
    p.flow("gw_fork", "release_slots")
    p.flow("notify_patients", "gw_join", route="hv")
    p.flow("release_slots", "gw_join", route="hv")
    p.flow("gw_join", "end_approved")
    save("approvals", "clinic_suspension.bpmn", p.to_xml())


# =============================================================== 4. day surgery
DS_APPLICANT = ("patient_name,patient_id,age,gender,phone,diagnosis_code,diagnosis_name,operation_name,"
                "surgeon,surgeon_day_surgery_qualified,asa_class,planned_date,pre_op_orders")


def day_surgery():
    p = Process("day_surgery", "日间手术", title="{patient_name} 日间手术 {operation_name}",
                start_roles="doctor",
                documentation="日间手术：准入（DMN）→麻醉评估→入院准备中心登记并预约检查→床位预约"
                              "（无床等待通知或每日复查）→排程→手术记录→24小时内出院或转普通病房→术后+1天、+7天随访。")
    p.start("start", "门诊医生提交日间手术申请", 0, 2, form="day_surgery_apply")
    p.rule("check_eligibility", "日间手术准入判断", 1, 2, "day_surgery_eligibility")
    p.xgw("gw_eligible", "符合准入？", 2, 2)
    p.end("end_ineligible", "不符合日间手术准入", 3, 3)
    p.user("anaesthesia_assessment", "麻醉评估", 3, 2, groups="anesthetist", form="day_surgery_anaesthesia",
           sla="P2D", escalation="notify", readonly=DS_APPLICANT.replace(",asa_class", ""), outcomes="approve,reject")
    p.xgw("gw_anaesthesia", "麻醉评估通过？", 4, 2)
    p.end("end_unfit", "麻醉评估不通过", 5, 3)
    p.user("admission_registration", "入院准备中心登记", 5, 2, groups="admission_center",
           form="day_surgery_registration", sla="P1D", readonly=DS_APPLICANT, outcomes="submit")
    p.service("book_exams", "预约术前检查", 6, 2, topic="his.book_exams",
              inputs={"patient_id": "patient_id", "orders": "pre_op_orders",
                      "before_date": "planned_date"}, result="exam_booking")
    p.xgw("gw_bed_retry", "床位预约", 7, 2)
    p.service("book_bed", "预约日间床位", 8, 2, topic="his.book_bed",
              inputs={"patient_id": "patient_id", "ward_type": '"day_surgery"',
                      "date": "planned_date"}, result="bed_booking")
    p.xgw("gw_bed", "有床位？", 9, 2)
    p.egw("gw_wait_bed", "候床", 10, 3)
    p.catch_msg("msg_bed_available", "收到空床通知", 11, 3, "bed_available")
    p.catch_timer("timer_bed_recheck", "每日复查", 11, 4, '"P1D"')
    p.user("schedule_theatre", "日间手术室排程", 10, 2, groups="nurse", form="day_surgery_theatre",
           sla="P1D", readonly=DS_APPLICANT, outcomes="submit")
    p.user("surgery_record", "手术记录", 11, 2, groups="doctor", form="day_surgery_record",
           readonly=DS_APPLICANT, outcomes="submit", assignee_expr="surgeon")
    p.user("discharge_assessment", "出院评估", 12, 2, groups="doctor,nurse", form="day_surgery_discharge",
           readonly=DS_APPLICANT, outcomes="discharge,convert_ward")
    p.boundary_timer("timer_24h", "超过24小时", "discharge_assessment", '"PT24H"', interrupting=True)
    p.xgw("gw_discharge", "出院/转科", 13, 2)
    p.user("convert_to_ward", "转普通病房（登记变异原因）", 13, 4, groups="doctor",
           form="day_surgery_conversion", readonly=DS_APPLICANT, outcomes="submit")
    p.end("end_converted", "已转普通病房", 14, 4)
    p.pgw("gw_follow_up_fork", "术后随访", 14, 2)
    p.catch_timer("timer_follow_up_1d", "出院+1天", 15, 1, '"P1D"')
    p.user("follow_up_day1", "术后第1天随访", 16, 1, groups="nurse", form="day_surgery_follow_up",
           sla="P1D", readonly=DS_APPLICANT, outcomes="normal,abnormal")
    p.catch_timer("timer_follow_up_7d", "出院+7天", 15, 3, '"P7D"')
    p.user("follow_up_day7", "术后第7天随访", 16, 3, groups="nurse", form="day_surgery_follow_up",
           sla="P1D", readonly=DS_APPLICANT, outcomes="normal,abnormal")
    p.pgw("gw_follow_up_join", "随访完成", 17, 2)
    p.end("end_completed", "日间手术闭环完成", 18, 2)

    p.chain("start", "check_eligibility", "gw_eligible")
    p.flow("gw_eligible", "anaesthesia_assessment", "符合", "eligible == True")
    p.flow("gw_eligible", "end_ineligible", "不符合", default=True)
    p.flow("anaesthesia_assessment", "gw_anaesthesia")
    p.flow("gw_anaesthesia", "admission_registration", "通过", 'outcome == "approve" and asa_class <= 2')
    p.flow("gw_anaesthesia", "end_unfit", "不通过", default=True)
    p.chain("admission_registration", "book_exams", "gw_bed_retry", "book_bed", "gw_bed")
    p.flow("gw_bed", "schedule_theatre", "已预约", 'bed_booking.get("booked") == True')
    p.flow("gw_bed", "gw_wait_bed", "无床", default=True)
    p.flow("gw_wait_bed", "msg_bed_available")
    p.flow("gw_wait_bed", "timer_bed_recheck")
    p.flow("msg_bed_available", "gw_bed_retry", route="below")
    p.flow("timer_bed_recheck", "gw_bed_retry", route="below")
    p.chain("schedule_theatre", "surgery_record", "discharge_assessment", "gw_discharge")
    p.flow("gw_discharge", "gw_follow_up_fork", "出院", 'outcome == "discharge"')
    p.flow("gw_discharge", "convert_to_ward", "转普通病房", default=True)
    p.flow("timer_24h", "convert_to_ward")
    p.flow("convert_to_ward", "end_converted")
    p.flow("gw_follow_up_fork", "timer_follow_up_1d")
    p.flow("gw_follow_up_fork", "timer_follow_up_7d")
    p.flow("timer_follow_up_1d", "follow_up_day1")
    p.flow("timer_follow_up_7d", "follow_up_day7")
    p.flow("follow_up_day1", "gw_follow_up_join", route="hv")
    p.flow("follow_up_day7", "gw_follow_up_join", route="hv")
    p.flow("gw_follow_up_join", "end_completed")
    save("day_surgery", "day_surgery.bpmn", p.to_xml())

    codes = '["K40", "K42", "K60", "K64", "K80", "H25", "H26", "I83", "N40", "N43", "D17", "D24", "N60", "M72"]'
    save("day_surgery", "day_surgery_eligibility.dmn", dmn(
        "day_surgery_eligibility", "日间手术准入", "FIRST",
        [("disease", "诊断（ICD-10 类目）", "diagnosis_code[:3]"),
         ("surgeon", "手术医生具备日间手术资格", "surgeon_day_surgery_qualified"),
         ("asa", "ASA 分级", "asa_class"),
         ("age", "年龄", "age")],
        [("eligible", "符合准入", "boolean"), ("ineligible_reason", "不符合原因", "string")],
        [([f"? not in {codes}", "-", "-", "-"], ["False", '"疾病不在日间手术病种目录"'], "病种准入"),
         (["-", "False", "-", "-"], ["False", '"手术医生无日间手术资格"'], "医师准入"),
         (["-", "-", "? > 2", "-"], ["False", '"ASA 分级高于 II 级"'], "患者准入：ASA ≤ II"),
         (["-", "-", "-", "not (14 <= ? <= 75)"], ["False", '"年龄不在 14–75 岁范围"'], "患者准入：年龄"),
         (["-", "-", "-", "-"], ["True", '""'], "符合全部准入标准")]))


# =============================================================== 5. refund
def refund():
    p = Process("refund", "退费", title="{patient_name} 退费 ¥{refund_amount}（{channel}）",
                start_roles="cashier,finance",
                documentation="退费：HIS 通知失败/HIS 结算失败自动退费，或患者/员工申请（收费员审核，"
                              "超过5000元财务审批）；渠道退款时限 DMN；渠道退款幂等并轮询至终态；通知 HIS 与患者；记录对账。")
    p.start("start", "收到退费请求", 0, 3, message="refund_requested", form="refund_request")
    p.script("init_refund", "初始化退费记录", 1, 3,
             "refund_call = None\nrefund_status = None\nhis_settlement_result = None")
    p.rule("check_refund_window", "渠道退款时限判断", 1, 3, "refund_window")
    p.xgw("gw_window", "在时限内？", 2, 3)
    p.xgw("gw_trigger", "触发来源", 3, 3)
    p.user("cashier_review", "收费员审核", 4, 2, groups="cashier", form="refund_cashier_review",
           sla="P1D", escalation="notify",
           readonly="order_no,channel,paid_amount,refundable_amount,refund_amount,paid_at,reason,patient_name",
           hidden="id_number")
    p.xgw("gw_cashier", "审核结果", 5, 2)
    p.end("end_cashier_rejected", "收费员驳回", 6, 2)
    p.user("finance_approval", "财务审批", 6, 1, groups="finance", form="refund_finance_approval",
           sla="P2D", escalation="notify",
           readonly="order_no,channel,paid_amount,refundable_amount,refund_amount,paid_at,reason,patient_name",
           hidden="id_number")
    p.xgw("gw_finance", "财务意见", 7, 1)
    p.end("end_finance_rejected", "财务驳回", 8, 0)
    p.xgw("gw_approved", "准予退费", 8, 3)
    p.script("check_partial", "部分退费校验", 9, 3,
             "refund_amount_ok = 0 < refund_amount <= refundable_amount\n"
             "is_partial_refund = refund_amount < paid_amount")
    p.xgw("gw_amount_ok", "金额合规？", 10, 3)
    p.service("call_refund", "发起渠道退款", 11, 3, topic="payment.refund",
              inputs={"refund_request_id": "refund_request_id", "order_no": "order_no",
                      "channel": "channel", "amount": "refund_amount", "reason": "reason"},
              result="refund_call")
    p.catch_timer("timer_poll", "等待5分钟", 12, 3, '"PT5M"')
    p.service("query_refund_status", "查询退款状态", 13, 3, topic="payment.refund_status",
              inputs={"refund_request_id": "refund_request_id", "channel": "channel"},
              result="refund_status")
    p.xgw("gw_refund_final", "退款终态？", 14, 3)
    p.service("notify_his", "通知 HIS 退费", 15, 3, topic="his.notify",
              inputs={"event": '"refund_succeeded"', "order_no": "order_no",
                      "refund_request_id": "refund_request_id", "amount": "refund_amount"},
              result="his_notify_result")
    p.egw("gw_wait_his", "等待 HIS 结算回执", 16, 3)
    p.catch_msg("msg_his_settlement_result", "HIS 结算回执", 17, 3, "his_settlement_result")
    p.catch_timer("timer_his_timeout", "2小时未回执", 17, 4, '"PT2H"')
    p.user("his_sync_exception", "HIS 单边帐处理", 18, 4, groups="cashier", form="refund_his_exception",
           sla="P1D", escalation="notify", outcomes="resolved")
    p.service("notify_patient", "通知患者退费结果", 19, 3, topic="notify.patient",
              inputs={"template": '"refund_result"', "patient_id": "patient_id", "phone": "phone",
                      "amount": "refund_amount", "status": 'refund_status.get("status")'},
              result="notify_result")
    p.script("record_reconciliation", "记录对账", 20, 3,
             'reconciliation = {"refund_request_id": refund_request_id, "order_no": order_no, '
             '"channel": channel, "amount": refund_amount, '
             '"status": "success" if refund_status and refund_status.get("status") == "success" '
             'else "manual_" + outcome, '
             '"channel_refund_no": refund_status.get("channel_refund_no") if refund_status else None, '
             '"his_confirmed": his_settlement_result is not None, "trigger": trigger}')
    p.end("end_refunded", "退费结束（已记录对账）", 21, 3)
    p.user("manual_refund", "人工退费处理", 10, 6, groups="finance", form="refund_manual",
           sla="P3D", escalation="notify", outcomes="refunded_manually,rejected",
           readonly="order_no,channel,paid_amount,refundable_amount,refund_amount,paid_at,reason,manual_reason")

    for n in p.nodes.values():
        if n.id not in ("start", "init_refund"):
            n.col += 1
    p.chain("start", "init_refund", "check_refund_window", "gw_window")
    p.flow("gw_window", "gw_trigger", "时限内", "within_window == True")
    p.flow("gw_window", "manual_refund", "超时限/现金", default=True)
    p.flow("gw_trigger", "cashier_review", "申请退费", 'trigger == "requested"')
    p.flow("gw_trigger", "gw_approved", "自动退费", default=True, route="below")
    p.flow("cashier_review", "gw_cashier")
    p.flow("gw_cashier", "finance_approval", ">5000元", 'outcome == "approve" and refund_amount > 5000')
    p.flow("gw_cashier", "gw_approved", "同意", 'outcome == "approve" and refund_amount <= 5000')
    p.flow("gw_cashier", "end_cashier_rejected", "驳回", default=True)
    p.flow("finance_approval", "gw_finance")
    p.flow("gw_finance", "gw_approved", "同意", 'outcome == "approve"', route="hv")
    p.flow("gw_finance", "end_finance_rejected", "驳回", default=True)
    p.chain("gw_approved", "check_partial", "gw_amount_ok")
    p.flow("gw_amount_ok", "call_refund", "合规", "refund_amount_ok == True")
    p.flow("gw_amount_ok", "manual_refund", "超出可退金额", default=True)
    p.chain("call_refund", "timer_poll", "query_refund_status", "gw_refund_final")
    p.flow("gw_refund_final", "notify_his", "成功", 'refund_status.get("status") == "success"')
    p.flow("gw_refund_final", "manual_refund", "失败", 'refund_status.get("status") == "failed"',
           route="below")
    p.flow("gw_refund_final", "timer_poll", "处理中", default=True, route="above")
    p.chain("notify_his", "gw_wait_his", "msg_his_settlement_result", "notify_patient")
    p.flow("gw_wait_his", "timer_his_timeout")
    p.flow("timer_his_timeout", "his_sync_exception")
    p.flow("his_sync_exception", "notify_patient")
    p.flow("manual_refund", "record_reconciliation")
    p.chain("notify_patient", "record_reconciliation", "end_refunded")
    save("refund", "refund.bpmn", p.to_xml())

    save("refund", "refund_window.dmn", dmn(
        "refund_window", "渠道退款时限", "FIRST",
        [("channel", "支付渠道", "channel"), ("age", "距支付天数", "days_since_payment")],
        [("within_window", "在退款时限内", "boolean"), ("window_days", "时限（天）", "integer"),
         ("manual_reason", "转人工原因", "string")],
        [(['"cash"', "-"], ["False", "0", '"现金支付需人工退费"'], "现金：人工"),
         (['"alipay"', "? <= 90"], ["True", "90", '""'], "支付宝：3个月内原路退回"),
         (['"wechat"', "? <= 365"], ["True", "365", '""'], "微信：1年内原路退回"),
         (['"unionpay"', "? <= 180"], ["True", "180", '""'], "银联：180天内原路退回"),
         (["-", "-"], ["False", "0", '"超出渠道退款时限或未知渠道，需人工处理"'], "其他：人工")]))


if __name__ == "__main__":
    for fn in (medical_record_copy, referral, leave_request, guest_meal, surgery_application,
               clinic_suspension, day_surgery, refund):
        fn()
    print("\n".join(sorted(OUT)))
