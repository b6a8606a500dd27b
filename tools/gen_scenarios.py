"""Generate processes/<family>/test_<key>.json scenario files (first authoring pass).

Step vocabulary (one action per step, optional "expect"):
  {"start": {"data": {...}}}                                  start the instance with data
  {"connector_result": {"task", "topic", "result"}}           external service task completes
  {"complete": {"task", "outcome", "data"}}                   human task completed
  {"message": {"name", "payload"}}                            message delivered (correlated by instance)
  {"timer": {"element"}}                                      timer fires (engine clock advanced)
  "expect": {"tasks": [open user tasks], "waiting": [service tasks / catch events waiting]}
A scenario ends with "end": {"event": <end event id>, "data": {subset of final data}}.
"""
from __future__ import annotations

import copy
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "processes"


def start(data, tasks=(), waiting=()):
    return {"start": {"data": data}, "expect": exp(tasks, waiting)}


def exp(tasks=(), waiting=()):
    e = {}
    if tasks:
        e["tasks"] = list(tasks)
    if waiting:
        e["waiting"] = list(waiting)
    return e


def conn(task, topic, result, tasks=(), waiting=()):
    return {"connector_result": {"task": task, "topic": topic, "result": result}, "expect": exp(tasks, waiting)}


def done(task, outcome, data=None, tasks=(), waiting=()):
    return {"complete": {"task": task, "outcome": outcome, "data": data or {}}, "expect": exp(tasks, waiting)}


def msg(name, payload, tasks=(), waiting=()):
    return {"message": {"name": name, "payload": payload}, "expect": exp(tasks, waiting)}


def timer(element, tasks=(), waiting=()):
    return {"timer": {"element": element}, "expect": exp(tasks, waiting)}


def sc(name, description, steps, end, data=None):
    e = {"event": end}
    if data:
        e["data"] = data
    return {"name": name, "description": description, "steps": steps, "end": e}


def save(family, key, scenarios):
    path = ROOT / family / f"test_{key}.json"
    path.write_text(json.dumps({"process": key, "bpmn": f"{key}.bpmn", "scenarios": scenarios},
                               ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(path.relative_to(ROOT.parent))


# =============================================================== medical record copy
MR_DATA = {"institution": "JA_CENTRAL", "patient_name": "张三", "id_number": "310106198001011234",
           "phone": "13800000000", "admission_date": "2024-03-01", "discharge_date": "2024-03-10",
           "purpose": "insurance", "scope": ["front_page", "discharge_summary"], "copies": 1,
           "delivery": "electronic", "identity_front": "att-1", "identity_back": "att-2",
           "is_agent": False, "review_levels_requested": 0}
ONE_LEVEL = dict(MR_DATA, institution="JA_PENGPU_CHC")


def mr_prefix(data=MR_DATA, first_task="records_review"):
    return [start(data, waiting=["identity_verify"]),
            conn("identity_verify", "identity.verify", {"verified": True}, waiting=["check_archive"]),
            conn("check_archive", "his.check_archive", {"found": True, "records": 1}, tasks=[first_task])]


APPROVE_MR = {"pages": 12, "fee_amount": 6.0}


def mr_pay_tail():
    return [conn("notify_payment", "notify.patient", {"sent": True},
                 waiting=["msg_payment_result", "timer_payment_expired"]),
            msg("payment_result", {"status": "paid", "amount": 6.0, "trade_no": "T001"},
                tasks=["records_upload"]),
            done("records_upload", "uploaded", {"copy_files": ["att-9"], "page_count": 12,
                                                 "download_url": "https://example.invalid/d/1"},
                 waiting=["notify_ready"]),
            conn("notify_ready", "notify.patient", {"sent": True},
                 waiting=["msg_patient_downloaded", "timer_link_expired"])]


def medical_record_copy():
    two = mr_prefix()
    s = []
    s.append(sc("二级审核-完整流程 / two-level review happy path",
                "区中心医院（DMN 判定二级审核）：初审→复审→缴费→上传→患者下载",
                two + [done("records_review", "approve", APPROVE_MR, tasks=["records_second_review"]),
                       done("records_second_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + mr_pay_tail() + [msg("patient_downloaded", {"downloaded_at": "2024-04-01T10:00:00+08:00"})],
                "end_completed", {"review_levels": 2}))
    s.append(sc("一级审核-完整流程 / one-level review",
                "社区中心（DMN 判定一级审核）：初审通过直接缴费",
                mr_prefix(ONE_LEVEL) + [done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + mr_pay_tail() + [msg("patient_downloaded", {})], "end_completed", {"review_levels": 1}))
    s.append(sc("调用方指定一级审核 / caller forces one level",
                "review_levels_requested=1 覆盖机构配置",
                mr_prefix(dict(MR_DATA, review_levels_requested=1))
                + [done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + mr_pay_tail() + [msg("patient_downloaded", {})], "end_completed", {"review_levels": 1}))
    s.append(sc("身份核验失败 / identity check fails", "区域平台核验不通过，流程结束并给出原因",
                [start(MR_DATA, waiting=["identity_verify"]),
                 conn("identity_verify", "identity.verify", {"verified": False, "reason": "人脸比对不一致"})],
                "end_identity_failed"))
    s.append(sc("无归档病案 / no archived record", "HIS/EMR 无归档病案，通知患者后结束",
                [start(MR_DATA, waiting=["identity_verify"]),
                 conn("identity_verify", "identity.verify", {"verified": True}, waiting=["check_archive"]),
                 conn("check_archive", "his.check_archive", {"found": False}, waiting=["notify_no_archive"]),
                 conn("notify_no_archive", "notify.patient", {"sent": True})], "end_no_archive"))
    s.append(sc("初审拒绝 / first-level reject", "拒绝须填写原因，通知患者",
                two + [done("records_review", "reject", {"comment": "授权书无患者签字"}, waiting=["notify_rejected"]),
                       conn("notify_rejected", "notify.patient", {"sent": True})], "end_rejected"))
    s.append(sc("复审拒绝 / second-level reject", "",
                two + [done("records_review", "approve", APPROVE_MR, tasks=["records_second_review"]),
                       done("records_second_review", "reject", {"comment": "复印范围超出用途"},
                            waiting=["notify_rejected"]),
                       conn("notify_rejected", "notify.patient", {"sent": True})], "end_rejected"))
    s.append(sc("补充材料后通过 / more materials then approve",
                "初审要求补充材料→患者补充（materials_supplied 消息）→回到初审",
                mr_prefix(ONE_LEVEL)
                + [done("records_review", "more_materials", {"materials_requested": "请上传清晰的身份证国徽面"},
                        waiting=["notify_more_materials"]),
                   conn("notify_more_materials", "notify.patient", {"sent": True},
                        waiting=["msg_materials_supplied", "timer_materials_expired"]),
                   msg("materials_supplied", {"identity_back": "att-3"}, tasks=["records_review"]),
                   done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + mr_pay_tail() + [msg("patient_downloaded", {})], "end_completed"))
    s.append(sc("补充材料逾期 / materials expire after 7 days", "",
                two + [done("records_review", "more_materials", {"materials_requested": "代办授权书"},
                            waiting=["notify_more_materials"]),
                       conn("notify_more_materials", "notify.patient", {"sent": True},
                            waiting=["msg_materials_supplied", "timer_materials_expired"]),
                       timer("timer_materials_expired")], "end_materials_expired"))
    s.append(sc("复审要求补充材料 / second level asks for materials", "",
                two + [done("records_review", "approve", APPROVE_MR, tasks=["records_second_review"]),
                       done("records_second_review", "more_materials", {"materials_requested": "住院号"},
                            waiting=["notify_more_materials"]),
                       conn("notify_more_materials", "notify.patient", {"sent": True},
                            waiting=["msg_materials_supplied", "timer_materials_expired"]),
                       timer("timer_materials_expired")], "end_materials_expired"))
    pay_wait = [conn("notify_payment", "notify.patient", {"sent": True},
                     waiting=["msg_payment_result", "timer_payment_expired"])]
    s.append(sc("缴费超时 / payment not made in 7 days", "",
                mr_prefix(ONE_LEVEL) + [done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + pay_wait + [timer("timer_payment_expired")], "end_unpaid"))
    s.append(sc("支付失败 / payment failed", "",
                mr_prefix(ONE_LEVEL) + [done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + pay_wait + [msg("payment_result", {"status": "failed"})], "end_payment_failed"))
    s.append(sc("下载链接过期 / link expires after 30 days", "",
                mr_prefix(ONE_LEVEL) + [done("records_review", "approve", APPROVE_MR, waiting=["notify_payment"])]
                + mr_pay_tail() + [timer("timer_link_expired")], "end_link_expired"))
    save("medical_records", "medical_record_copy", s)


# =============================================================== referral
REF = {"referral_type": "normal", "patient_name": "李四", "id_number": "310106196501011234",
       "phone": "13900000000", "source_institution": "JA_PENGPU_CHC", "target_institution": "JA_CENTRAL",
       "target_department": "心内科", "diagnosis": "不稳定型心绞痛", "reason": "需冠脉造影评估",
       "attachments": [{"kind": "exam_report", "file": "att-1"}]}
DOWN = {"discharge_date": "2024-05-10", "discharge_summary": "att-7",
        "community_institution": "JA_PENGPU_CHC", "follow_up_days": 7, "follow_up_plan": "监测血压，按时服药"}
ARRANGE = {"appointment_time": "2024-05-01T09:00:00+08:00", "department": "心内科", "need_bed": True}


def ref_after_accept(tail_end=True):
    steps = [done("arrange_admission", "submit", ARRANGE, waiting=["notify_referral"]),
             conn("notify_referral", "notify.patient", {"sent": True}, waiting=["msg_his_arrival", "timer_no_show"]),
             msg("his_arrival", {"visit_no": "ZY2024001", "arrived_at": "2024-05-01T08:40:00+08:00"},
                 tasks=["plan_down_referral"])]
    return steps


def referral():
    normal = [start(REF, tasks=["dept_approval"]), done("dept_approval", "approve", tasks=["referral_office_review"])]
    closed = [done("plan_down_referral", "down_referral", DOWN, tasks=["community_accept"]),
              done("community_accept", "accept", {"responsible_doctor": "wangwu"}, tasks=["community_follow_up"]),
              done("community_follow_up", "done", {"follow_up_date": "2024-05-15", "method": "phone",
                                                   "condition": "stable", "record": "恢复良好"})]
    s = []
    s.append(sc("普通上转-下转闭环 / normal referral closed loop", "",
                normal + [done("referral_office_review", "accept", tasks=["arrange_admission"])]
                + ref_after_accept() + closed, "end_closed_loop"))
    s.append(sc("紧急转诊 / emergency (no dept approval, 30-min SLA)",
                "跳过转出科室审核；emergency_accept 带 hospital:sla=PT30M，超时引擎改派 dept_head",
                [start(dict(REF, referral_type="emergency"), tasks=["emergency_accept"]),
                 done("emergency_accept", "accept", {"receiving_doctor": "zhaoliu"}, tasks=["arrange_admission"])]
                + ref_after_accept() + closed, "end_closed_loop"))
    s.append(sc("紧急转诊拒收 / emergency rejected", "",
                [start(dict(REF, referral_type="emergency"), tasks=["emergency_accept"]),
                 done("emergency_accept", "reject", {"comment": "无 ICU 床位，建议转市级医院"})],
                "end_emergency_rejected"))
    diff = [start(dict(REF, referral_type="difficult"), tasks=["dept_approval"]),
            done("dept_approval", "approve", tasks=["arrange_consultation"]),
            done("arrange_consultation", "submit", {"consult_experts": ["exp_a", "exp_b", "exp_c"],
                                                    "consult_time": "2024-04-28T14:00:00+08:00"},
                 tasks=["expert_consultation"])]
    s.append(sc("疑难病例会诊后转诊 / difficult case, countersign approves",
                "expert_consultation 为会签（hospital:countersign=all），三位专家均同意后 outcome=approve",
                diff + [done("expert_consultation", "approve", {"comment": "建议转入行 PCI"},
                             tasks=["arrange_admission"])] + ref_after_accept() + closed, "end_closed_loop"))
    s.append(sc("疑难病例会诊不建议转诊 / consultation declines", "任一专家不同意即会签结果为 reject",
                diff + [done("expert_consultation", "reject", {"comment": "可在社区保守治疗"})],
                "end_consult_declined"))
    s.append(sc("转出科室不同意 / department rejects", "",
                [start(REF, tasks=["dept_approval"]), done("dept_approval", "reject", {"comment": "资料不全"})],
                "end_dept_rejected"))
    s.append(sc("转诊办要求补充资料 / request info then accept", "",
                normal + [done("referral_office_review", "request_info", {"info_requested": "请补充心电图"},
                               tasks=["supplement_info"]),
                          done("supplement_info", "submit", {"supplement_note": "已上传心电图"},
                               tasks=["referral_office_review"]),
                          done("referral_office_review", "accept", tasks=["arrange_admission"])]
                + ref_after_accept() + [done("plan_down_referral", "discharge_home", {"discharge_date": "2024-05-10"})],
                "end_discharged_home"))
    s.append(sc("转入医院拒绝 / receiving hospital rejects", "",
                normal + [done("referral_office_review", "reject", {"comment": "专科无号源"})], "end_office_rejected"))
    s.append(sc("患者未到院 / no show after 7 days", "",
                normal + [done("referral_office_review", "accept", tasks=["arrange_admission"]),
                          done("arrange_admission", "submit", ARRANGE, waiting=["notify_referral"]),
                          conn("notify_referral", "notify.patient", {"sent": True},
                               waiting=["msg_his_arrival", "timer_no_show"]),
                          timer("timer_no_show")], "end_no_show"))
    s.append(sc("社区拒收后改选社区 / community rejects, re-plan; follow-up overdue reminder",
                "社区拒收→重新下转评估→另一社区接收；随访逾期非中断定时器发短信催办，随访仍可完成",
                normal + [done("referral_office_review", "accept", tasks=["arrange_admission"])]
                + ref_after_accept()
                + [done("plan_down_referral", "down_referral", DOWN, tasks=["community_accept"]),
                   done("community_accept", "reject", {"comment": "本中心无康复床位"}, tasks=["plan_down_referral"]),
                   done("plan_down_referral", "down_referral", dict(DOWN, community_institution="JA_LINFEN_CHC"),
                        tasks=["community_accept"]),
                   done("community_accept", "accept", {"responsible_doctor": "sunqi"}, tasks=["community_follow_up"]),
                   timer("timer_follow_up_due", tasks=["community_follow_up"], waiting=["notify_follow_up_overdue"]),
                   conn("notify_follow_up_overdue", "notify.sms", {"sent": True}, tasks=["community_follow_up"])],
                "end_overdue_notified"))
    save("referral", "referral", s)


# =============================================================== approvals
def approvals():
    leave = {"applicant_name": "王医生", "employee_no": "E1001", "department": "心内科", "staff_type": "doctor",
             "leave_type": "annual", "start_date": "2024-06-03", "end_date": "2024-06-04", "days": 2,
             "reason": "家事", "handover": [{"item": "周二门诊", "handover_to": "李医生"}]}
    s = [sc("≤3天科主任批准 / short leave approved by dept head", "DMN: approval_levels=1",
            [start(leave, tasks=["dept_head_review"]), done("dept_head_review", "approve")], "end_approved",
            {"approval_levels": 1, "leave_status": "approved"}),
         sc("临床>3天需医务处 / clinical >3 days adds medical affairs", "",
            [start(dict(leave, days=5), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "approve")], "end_approved", {"approval_levels": 2}),
         sc("行政后勤5天仅科主任 / admin staff 5 days: dept head only", "",
            [start(dict(leave, days=5, staff_type="admin_staff"), tasks=["dept_head_review"]),
             done("dept_head_review", "approve")], "end_approved", {"approval_levels": 1}),
         sc("行政后勤>15天需医务处 / admin staff >15 days", "",
            [start(dict(leave, days=20, staff_type="admin_staff", leave_type="maternity"), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "approve")], "end_approved"),
         sc("科主任拒绝 / dept head rejects", "",
            [start(leave, tasks=["dept_head_review"]), done("dept_head_review", "reject", {"comment": "排班冲突"})],
            "end_rejected"),
         sc("医务处拒绝 / medical affairs rejects", "",
            [start(dict(leave, days=10), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "reject", {"comment": "医疗质量检查期间"})], "end_ma_rejected")]
    save("approvals", "leave_request", s)

    meal = {"applicant_name": "赵主任", "department": "科教科", "meal_date": "2024-06-05", "meal_type": "lunch",
            "guest_count": 4, "standard_per_person": 150, "amount": 600, "reason": "专家评审",
            "guests": [{"name": "钱教授", "organization": "某大学医学院"}]}
    s = [sc("≤1000元科主任批准 / up to 1000 approved by dept head", "",
            [start(meal, tasks=["dept_head_review"]), done("dept_head_review", "approve")], "end_approved"),
         sc(">1000元财务审批 / above 1000 goes to finance", "",
            [start(dict(meal, guest_count=10, amount=1500), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["finance_review"]), done("finance_review", "approve")],
            "end_approved"),
         sc("科主任拒绝 / dept head rejects", "",
            [start(meal, tasks=["dept_head_review"]), done("dept_head_review", "reject", {"comment": "超标准"})],
            "end_rejected"),
         sc("财务拒绝 / finance rejects", "",
            [start(dict(meal, amount=3000), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["finance_review"]),
             done("finance_review", "reject", {"comment": "超出接待标准"})], "end_finance_rejected")]
    save("approvals", "guest_meal", s)

    surg = {"patient_name": "孙某", "inpatient_no": "ZY001", "department": "普外科", "diagnosis": "胆囊结石",
            "operation_name": "腹腔镜胆囊切除术", "surgery_grade": 3, "new_technique": False,
            "planned_date": "2024-06-10", "surgeon": "dr_zhou", "anesthesia_method": "general",
            "informed_consent": "att-5"}
    s = [sc("三级手术科主任批准 / grade 3 approved by dept head", "",
            [start(surg, tasks=["dept_head_review"]), done("dept_head_review", "approve")], "end_approved"),
         sc("四级手术需医务处 / grade 4 adds medical affairs", "",
            [start(dict(surg, surgery_grade=4, operation_name="胰十二指肠切除术", risk_assessment="..."),
                   tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "approve")], "end_approved"),
         sc("新技术需医务处并被拒 / new technique, medical affairs rejects", "",
            [start(dict(surg, new_technique=True), tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "reject", {"comment": "新技术未完成准入备案"})], "end_ma_rejected"),
         sc("科主任拒绝 / dept head rejects", "",
            [start(surg, tasks=["dept_head_review"]), done("dept_head_review", "reject", {"comment": "术前检查不全"})],
            "end_rejected")]
    save("approvals", "surgery_application", s)

    clinic = {"doctor_name": "吴医生", "employee_no": "E2002", "department": "内分泌科", "start_date": "2024-06-12",
              "end_date": "2024-06-12", "session": "am", "reason": "参加学术会议", "substitute_doctor": "郑医生",
              "booked_count": 23}
    s = [sc("批准后通知患者并释放号源 / approved: notify patients and release slots", "两个连接器并行执行",
            [start(clinic, tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "approve", waiting=["notify_patients", "release_slots"]),
             conn("notify_patients", "clinic.notify_patients", {"notified": 23}, waiting=["release_slots"]),
             conn("release_slots", "clinic.release_slots", {"released": 30})], "end_approved"),
         sc("科主任拒绝 / dept head rejects", "",
            [start(clinic, tasks=["dept_head_review"]), done("dept_head_review", "reject", {"comment": "无替诊医生"})],
            "end_rejected"),
         sc("医务处拒绝 / medical affairs rejects", "",
            [start(clinic, tasks=["dept_head_review"]),
             done("dept_head_review", "approve", tasks=["medical_affairs_review"]),
             done("medical_affairs_review", "reject", {"comment": "当日门诊量饱和"})], "end_ma_rejected")]
    save("approvals", "clinic_suspension", s)


# =============================================================== day surgery
DS = {"patient_name": "周某", "patient_id": "P0001", "age": 45, "gender": "male", "phone": "13700000000",
      "diagnosis_code": "K40.9", "diagnosis_name": "腹股沟疝", "operation_name": "腹腔镜疝修补术",
      "surgeon": "dr_chen", "surgeon_day_surgery_qualified": True, "asa_class": 1, "planned_date": "2024-06-20",
      "pre_op_orders": [{"code": "XCG", "name": "血常规"}]}


def ds_to_bed():
    return [start(DS, tasks=["anaesthesia_assessment"]),
            done("anaesthesia_assessment", "approve", {"asa_class": 1, "anesthesia_method": "general"},
                 tasks=["admission_registration"]),
            done("admission_registration", "submit", {"deposit_paid": True, "contact_confirmed": True},
                 waiting=["book_exams"]),
            conn("book_exams", "his.book_exams", {"booked": True, "items": 1}, waiting=["book_bed"])]


def ds_after_bed():
    return [done("schedule_theatre", "submit", {"theatre": "DS-2", "scheduled_at": "2024-06-20T08:30:00+08:00"},
                 tasks=["surgery_record"]),
            done("surgery_record", "submit", {"operation_performed": "腹腔镜疝修补术",
                                              "started_at": "2024-06-20T08:40:00+08:00",
                                              "ended_at": "2024-06-20T09:30:00+08:00", "findings": "右侧斜疝"},
                 tasks=["discharge_assessment"])]


FOLLOW = [timer("timer_follow_up_1d", tasks=["follow_up_day1"], waiting=["timer_follow_up_7d"]),
          done("follow_up_day1", "normal", {"follow_up_at": "2024-06-22T10:00:00+08:00", "method": "phone",
                                            "pain_score": 2}, waiting=["timer_follow_up_7d"]),
          timer("timer_follow_up_7d", tasks=["follow_up_day7"]),
          done("follow_up_day7", "normal", {"follow_up_at": "2024-06-28T10:00:00+08:00", "method": "phone",
                                            "pain_score": 0})]


def day_surgery():
    s = [sc("日间手术完整流程 / happy path", "有床位→排程→手术→24小时内出院→+1天/+7天随访",
            ds_to_bed() + [conn("book_bed", "his.book_bed", {"booked": True, "bed_no": "DS-12"},
                                tasks=["schedule_theatre"])] + ds_after_bed()
            + [done("discharge_assessment", "discharge", {"pads_score": 10,
                                                          "discharged_at": "2024-06-20T17:00:00+08:00"},
                    waiting=["timer_follow_up_1d", "timer_follow_up_7d"])] + FOLLOW,
            "end_completed", {"eligible": True}),
         sc("无床等待空床通知 / no bed, bed_available message", "",
            ds_to_bed() + [conn("book_bed", "his.book_bed", {"booked": False},
                                waiting=["msg_bed_available", "timer_bed_recheck"]),
                           msg("bed_available", {"ward": "日间病房", "date": "2024-06-21"}, waiting=["book_bed"]),
                           conn("book_bed", "his.book_bed", {"booked": True, "bed_no": "DS-3"},
                                tasks=["schedule_theatre"])] + ds_after_bed()
            + [done("discharge_assessment", "discharge", {"pads_score": 9,
                                                          "discharged_at": "2024-06-21T16:00:00+08:00"})] + FOLLOW,
            "end_completed"),
         sc("无床每日复查 / no bed, daily re-check timer", "P1D 定时器循环重新预约",
            ds_to_bed() + [conn("book_bed", "his.book_bed", {"booked": False},
                                waiting=["msg_bed_available", "timer_bed_recheck"]),
                           timer("timer_bed_recheck", waiting=["book_bed"]),
                           conn("book_bed", "his.book_bed", {"booked": False},
                                waiting=["msg_bed_available", "timer_bed_recheck"]),
                           timer("timer_bed_recheck", waiting=["book_bed"]),
                           conn("book_bed", "his.book_bed", {"booked": True, "bed_no": "DS-5"},
                                tasks=["schedule_theatre"])] + ds_after_bed()
            + [done("discharge_assessment", "discharge", {"pads_score": 9,
                                                          "discharged_at": "2024-06-23T16:00:00+08:00"})] + FOLLOW,
            "end_completed"),
         sc("不符合准入 / ineligible (disease not on list)", "DMN eligible=False",
            [start(dict(DS, diagnosis_code="C18.7"))], "end_ineligible",
            {"eligible": False, "ineligible_reason": "疾病不在日间手术病种目录"}),
         sc("医生无资格 / surgeon not qualified", "",
            [start(dict(DS, surgeon_day_surgery_qualified=False))], "end_ineligible",
            {"ineligible_reason": "手术医生无日间手术资格"}),
         sc("ASA>2 不符合 / ASA class 3", "",
            [start(dict(DS, asa_class=3))], "end_ineligible", {"ineligible_reason": "ASA 分级高于 II 级"}),
         sc("年龄超范围 / age out of range", "",
            [start(dict(DS, age=80))], "end_ineligible", {"ineligible_reason": "年龄不在 14–75 岁范围"}),
         sc("麻醉评估不通过 / anaesthesia unfit", "",
            [start(DS, tasks=["anaesthesia_assessment"]),
             done("anaesthesia_assessment", "reject", {"asa_class": 3, "comment": "控制不佳的高血压"})], "end_unfit"),
         sc("术后转普通病房 / conversion with variance reason", "",
            ds_to_bed() + [conn("book_bed", "his.book_bed", {"booked": True}, tasks=["schedule_theatre"])]
            + ds_after_bed() + [done("discharge_assessment", "convert_ward", tasks=["convert_to_ward"]),
                                done("convert_to_ward", "submit", {"variance_reason": "bleeding",
                                                                   "variance_detail": "切口渗血", "target_ward": "普外一病区"})],
            "end_converted"),
         sc("超过24小时未出院 / 24h boundary timer", "中断型边界定时器 PT24H",
            ds_to_bed() + [conn("book_bed", "his.book_bed", {"booked": True}, tasks=["schedule_theatre"])]
            + ds_after_bed() + [timer("timer_24h", tasks=["convert_to_ward"]),
                                done("convert_to_ward", "submit", {"variance_reason": "timeout",
                                                                   "variance_detail": "疼痛未缓解", "target_ward": "普外一病区"})],
            "end_converted")]
    save("day_surgery", "day_surgery", s)


# =============================================================== refund
RF = {"trigger": "requested", "refund_request_id": "RF20240601001", "order_no": "PO20240520001",
      "institution": "JA_CENTRAL", "patient_name": "陈某", "patient_id": "P9", "phone": "13600000000",
      "channel": "alipay", "paid_amount": 300.0, "refundable_amount": 300.0, "refund_amount": 120.0,
      "paid_at": "2024-05-20T10:00:00+08:00", "days_since_payment": 12, "reason": "检查项目取消"}


def rf_tail(end_ok=True):
    return [conn("call_refund", "payment.refund", {"accepted": True}, waiting=["timer_poll"]),
            timer("timer_poll", waiting=["query_refund_status"]),
            conn("query_refund_status", "payment.refund_status", {"status": "processing"}, waiting=["timer_poll"]),
            timer("timer_poll", waiting=["query_refund_status"]),
            conn("query_refund_status", "payment.refund_status",
                 {"status": "success", "channel_refund_no": "ALI123"}, waiting=["notify_his"]),
            conn("notify_his", "his.notify", {"accepted": True},
                 waiting=["msg_his_settlement_result", "timer_his_timeout"])]


def refund():
    s = [sc("申请退费-收费员审核（部分退费）/ requested partial refund, cashier approves", "",
            [start(RF, tasks=["cashier_review"]),
             done("cashier_review", "approve", {"verified_receipt": True}, waiting=["call_refund"])]
            + rf_tail() + [msg("his_settlement_result", {"status": "reversed"}, waiting=["notify_patient"]),
                           conn("notify_patient", "notify.patient", {"sent": True})],
            "end_refunded", {"is_partial_refund": True, "reconciliation": {"status": "success"}}),
         sc("申请退费>5000元财务审批 / above 5000 needs finance", "",
            [start(dict(RF, paid_amount=8000.0, refundable_amount=8000.0, refund_amount=6000.0),
                   tasks=["cashier_review"]),
             done("cashier_review", "approve", {"verified_receipt": True}, tasks=["finance_approval"]),
             done("finance_approval", "approve", waiting=["call_refund"])]
            + rf_tail() + [msg("his_settlement_result", {"status": "reversed"}, waiting=["notify_patient"]),
                           conn("notify_patient", "notify.patient", {"sent": True})], "end_refunded"),
         sc("HIS 通知失败自动退费 / automatic refund after HIS notify failures (wechat)", "无人工审核",
            [start(dict(RF, trigger="his_notify_failed", channel="wechat", refund_amount=300.0, days_since_payment=0),
                   waiting=["call_refund"])]
            + rf_tail() + [msg("his_settlement_result", {"status": "reversed"}, waiting=["notify_patient"]),
                           conn("notify_patient", "notify.patient", {"sent": True})], "end_refunded",
            {"is_partial_refund": False}),
         sc("HIS 结算失败自动退费，HIS 回执超时 / settlement failed, HIS receipt timeout → one-sided ledger task", "",
            [start(dict(RF, trigger="his_settlement_failed", channel="unionpay", refund_amount=300.0),
                   waiting=["call_refund"])]
            + rf_tail() + [timer("timer_his_timeout", tasks=["his_sync_exception"]),
                           done("his_sync_exception", "resolved", {"action": "his_manual_entry", "comment": "HIS 补录"},
                                waiting=["notify_patient"]),
                           conn("notify_patient", "notify.patient", {"sent": True})], "end_refunded"),
         sc("超出渠道时限转人工 / outside window (alipay > 3 months)", "DMN within_window=False",
            [start(dict(RF, days_since_payment=120), tasks=["manual_refund"]),
             done("manual_refund", "refunded_manually", {"manual_method": "bank_transfer", "voucher": "att-8",
                                                         "comment": "银行转账退回"})],
            "end_refunded", {"within_window": False, "reconciliation": {"status": "manual_refunded_manually"}}),
         sc("现金支付转人工 / cash always manual", "",
            [start(dict(RF, channel="cash"), tasks=["manual_refund"]),
             done("manual_refund", "rejected", {"comment": "请至窗口办理"})], "end_refunded"),
         sc("退款金额超过可退金额 / refund exceeds refundable → manual", "check_partial 脚本置 refund_amount_ok=False",
            [start(dict(RF, refund_amount=500.0), tasks=["cashier_review"]),
             done("cashier_review", "approve", {"verified_receipt": True}, tasks=["manual_refund"]),
             done("manual_refund", "rejected", {"comment": "超出可退金额"})], "end_refunded",
            {"refund_amount_ok": False}),
         sc("渠道退款失败转人工 / channel refund failed → manual", "",
            [start(dict(RF, trigger="his_notify_failed", refund_amount=300.0), waiting=["call_refund"]),
             conn("call_refund", "payment.refund", {"accepted": True}, waiting=["timer_poll"]),
             timer("timer_poll", waiting=["query_refund_status"]),
             conn("query_refund_status", "payment.refund_status", {"status": "failed", "error": "ACCOUNT_CLOSED"},
                  tasks=["manual_refund"]),
             done("manual_refund", "refunded_manually", {"manual_method": "enterprise_pay", "voucher": "att-9",
                                                         "comment": "企业付款到零钱"})], "end_refunded"),
         sc("收费员驳回 / cashier rejects", "",
            [start(RF, tasks=["cashier_review"]),
             done("cashier_review", "reject", {"verified_receipt": True, "comment": "检查已执行，不可退"})],
            "end_cashier_rejected"),
         sc("财务驳回 / finance rejects", "",
            [start(dict(RF, paid_amount=9000.0, refundable_amount=9000.0, refund_amount=9000.0),
                   tasks=["cashier_review"]),
             done("cashier_review", "approve", {"verified_receipt": True}, tasks=["finance_approval"]),
             done("finance_approval", "reject", {"comment": "需医保办确认"})], "end_finance_rejected")]
    save("refund", "refund", s)


if __name__ == "__main__":
    medical_record_copy()
    referral()
    approvals()
    day_surgery()
    refund()
