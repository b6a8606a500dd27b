"""Admin commands: separation of duties, wrong domain, reasons, PII masking, CSV import, audit access."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import engine
from engine.errors import Conflict, PermissionDenied, ValidationFailed
from engine.identity._common import PRIVILEGED_ROLES
from engine.models import AuditRecord, User
from tests.engine.identity.conftest import audit_actions, subject_of


def test_sys_admin_manages_org_with_reasons(ictx):
    admin = subject_of(ictx, "xitong_admin")
    with pytest.raises(ValidationFailed):
        engine.create_institution(
            ictx, admin, code="sq_south", name="城南社区卫生服务中心", kind="community", reason=" "
        )
    inst = engine.create_institution(
        ictx, admin, code="sq_south", name="城南社区卫生服务中心", kind="community", reason="新建社区中心"
    )
    assert inst.kind == "community"
    with pytest.raises(Conflict):
        engine.create_institution(ictx, admin, code="sq_south", name="重复", kind="community", reason="重复")
    dept = engine.create_department(
        ictx, admin, institution_code="sq_south", code="qk", name="全科", reason="建科"
    )
    engine.update_department(ictx, admin, dept.id, name="全科医学科", reason="更名")
    engine.update_institution(ictx, admin, "sq_south", name="城南社区中心", reason="更名")
    assert [d.name for d in engine.list_departments(ictx, "sq_south")] == ["全科医学科"]
    assert {"institution.created", "department.created", "department.updated", "institution.updated"} <= set(
        audit_actions(ictx, "xitong_admin")
    )


def test_separation_of_duties(ictx):
    security = subject_of(ictx, "anquan_admin")
    auditor = subject_of(ictx, "shenji_admin")
    doctor = subject_of(ictx, "zhangwei")
    for who in (security, auditor, doctor):
        with pytest.raises(PermissionDenied):
            engine.create_user(
                ictx,
                who,
                username="x_user",
                employee_no="E0999",
                display_name="某人",
                institution_code="zyy",
                reason="测试",
            )
    sys_admin = subject_of(ictx, "xitong_admin")
    for who in (sys_admin, auditor, doctor):
        with pytest.raises(PermissionDenied):
            engine.create_api_client(
                ictx, who, key_id="his-01", name="HIS", allowed_networks=["10.0.0.0/8"], reason="测试"
            )
        with pytest.raises(PermissionDenied):
            engine.reset_password(ictx, who, "zhangwei", reason="测试")
    for who in (sys_admin, security, doctor):
        with pytest.raises(PermissionDenied):
            engine.list_audit_records(ictx, who)
    assert audit_actions(ictx, "shenji_admin").count("access.denied") == 3  # user, API client, reset
    assert engine.security_settings(ictx, security)["lockout_failures"] == 5
    assert ["g", "records_head", "records_clerk", "*"] in engine.list_policies(ictx, sys_admin, "g")


def test_role_rules_self_assignment_and_three_officer_exclusivity(ictx):
    admin = subject_of(ictx, "xitong_admin")
    security = subject_of(ictx, "anquan_admin")
    with pytest.raises(ValidationFailed) as own:
        engine.assign_role(ictx, security, "anquan_admin", "audit_admin", "*", reason="自授权")
    assert "self_assignment" in {e.validator for e in own.value.errors}
    with pytest.raises(ValidationFailed) as both:
        engine.assign_role(ictx, security, "xitong_admin", "audit_admin", "*", reason="兼任")
    assert "separation_of_duties" in {e.validator for e in both.value.errors}
    with pytest.raises(ValidationFailed):
        engine.assign_role(ictx, admin, "zhangwei", "no_such_role", "rmyy_main", reason="错误")
    assert engine.assign_role(ictx, admin, "zhangwei", "expert", "zyy", reason="会诊") is True
    assert engine.assign_role(ictx, admin, "zhangwei", "expert", "zyy", reason="会诊") is False
    assert "expert" in subject_of(ictx, "zhangwei").roles["zyy"]
    assert engine.revoke_role(ictx, admin, "zhangwei", "expert", "zyy", reason="结束") is True
    assert "zyy" not in subject_of(ictx, "zhangwei").roles


def _denied_details(ctx, actor: str) -> list[dict]:
    with ctx.db.unit_of_work() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.actor == actor, AuditRecord.action == "access.denied")
                         .order_by(AuditRecord.seq)).all()
        return [dict(r.details) for r in rows]


@pytest.mark.parametrize("role", sorted(PRIVILEGED_ROLES))
def test_sys_admin_cannot_grant_or_revoke_a_privileged_role(ictx, role):
    """The bypass: an account created with a password the system admin chose, then made an administrator."""
    admin = subject_of(ictx, "xitong_admin")
    engine.create_user(ictx, admin, username="accomplice", employee_no="E3901", display_name="同谋",
                       institution_code="rmyy_main", initial_password="Known#Pass2026", reason="新入职")
    with pytest.raises(PermissionDenied):
        engine.assign_role(ictx, admin, "accomplice", role, "*", reason="授权")
    with pytest.raises(PermissionDenied):
        engine.revoke_role(ictx, admin, "liucheng_admin", "process_admin", "*", reason="撤销")
    refused = _denied_details(ictx, "xitong_admin")
    assert [(d["object"], d["command"], d["role"]) for d in refused] == [
        ("admin_role", "assign_role", role), ("admin_role", "revoke_role", "process_admin")]
    assert engine.list_users(ictx, admin, q="accomplice")[0].roles == {}
    # the CSV import is no way round it either (all rows refused, audited)
    csv = f"username,employee_no,display_name,institution,roles\nmallory,E3902,某人,zyy,{role}\n".encode()
    with pytest.raises(ValidationFailed) as exc:
        engine.import_users_csv(ictx, admin, csv, reason="批量")
    assert "permission" in {e.validator for e in exc.value.errors}
    assert len(_denied_details(ictx, "xitong_admin")) == 3


def test_security_admin_grants_and_revokes_privileged_roles_but_not_ordinary_ones(ictx):
    security = subject_of(ictx, "anquan_admin")
    assert engine.assign_role(ictx, security, "zhangwei", "process_admin", "zyy", reason="兼任流程管理员") is True
    assert engine.list_users(ictx, security, q="zhangwei")[0].roles["zyy"] == ["process_admin"]
    assert engine.revoke_role(ictx, security, "zhangwei", "process_admin", "zyy", reason="卸任") is True
    assert {"role.assigned", "role.revoked"} <= set(audit_actions(ictx, "anquan_admin"))
    with pytest.raises(PermissionDenied):  # ordinary roles stay the system admin's (identity:admin)
        engine.assign_role(ictx, security, "zhangwei", "expert", "zyy", reason="会诊")
    assert _denied_details(ictx, "anquan_admin")[-1]["object"] == "identity"


def test_institution_scoped_admin_cannot_act_in_another_domain(ictx):
    admin = subject_of(ictx, "xitong_admin")
    engine.create_user(
        ictx,
        admin,
        username="zyy_admin",
        employee_no="E3900",
        display_name="中医院管理员",
        institution_code="zyy",
        initial_password="Zyy#Admin20260",
        reason="分院管理员",
    )
    engine.assign_role(ictx, subject_of(ictx, "anquan_admin"), "zyy_admin", "sys_admin", "zyy", reason="分院管理员")
    local = engine.login(ictx, "zyy_admin", "Zyy#Admin20260", ip="10.0.0.3")
    info = engine.resolve_session(ictx, local.session_token)
    engine.change_password(
        ictx, info.subject, "Zyy#Admin20260", "Zyy#Admin20261", session_token=local.session_token
    )
    # In development the second factor is enforced for non-demo admins too: roles withheld until TOTP.
    assert "sys_admin" not in engine.resolve_session(ictx, local.session_token).subject.roles.get("zyy", ())
    with ictx.db.unit_of_work() as s:
        s.execute(User.__table__.update().where(User.username == "zyy_admin").values(totp_exempt=True))
    subject = subject_of(ictx, "zyy_admin", "Zyy#Admin20261")
    engine.create_user(
        ictx,
        subject,
        username="zyy_doc",
        employee_no="E3901",
        display_name="中医院医生",
        institution_code="zyy",
        reason="入职",
    )
    with pytest.raises(PermissionDenied):
        engine.create_user(
            ictx,
            subject,
            username="sq_doc",
            employee_no="E4901",
            display_name="社区医生",
            institution_code="sq_east",
            reason="入职",
        )
    with pytest.raises(PermissionDenied):
        engine.assign_role(ictx, subject, "xiehua", "doctor", "sq_east", reason="越权")
    policy = ictx.extras["policy"]
    assert policy(subject, "zyy", "identity", "admin") and not policy(subject, "sq_east", "identity", "admin")
    doctor = subject_of(ictx, "zhangwei")
    assert policy(doctor, "rmyy_main", "task", "claim") and not policy(doctor, "zyy", "task", "claim")


def test_sensitive_fields_encrypted_masked_and_revealed_with_audit(ictx):
    admin = subject_of(ictx, "xitong_admin")
    view = engine.create_user(
        ictx,
        admin,
        username="pii_user",
        employee_no="E8001",
        display_name="李四",
        institution_code="zyy",
        reason="入职",
        fields=engine.UserFields(phone="13812345678", id_number="11010519491231002X"),
    )
    assert view.phone == "138****5678" and view.id_number == "110105********002X"
    with ictx.db.unit_of_work() as s:
        row = s.scalars(select(User).where(User.username == "pii_user")).one()
        assert "13812345678" not in (row.phone_enc or "") and row.phone_bidx
    found = engine.list_users(ictx, admin, phone="+86 138-1234-5678")
    assert [u.username for u in found] == ["pii_user"]
    with pytest.raises(PermissionDenied):
        engine.reveal_user_pii(ictx, subject_of(ictx, "anquan_admin"), "pii_user", reason="核对")
    full = engine.reveal_user_pii(ictx, admin, "pii_user", reason="核对身份")
    assert full["id_number"] == "11010519491231002X"
    assert "pii.read" in audit_actions(ictx, "xitong_admin")
    with pytest.raises(ValidationFailed):
        engine.update_user(
            ictx, admin, "pii_user", engine.UserFields(id_number="110105194912310021"), reason="改"
        )


GOOD_CSV = """username,employee_no,display_name,institution,department,phone,id_number,roles,expires_at
liming,E6001,李明,zyy,nk,13900001111,,doctor,2027-12-31
zhaoyun,E6002,赵云,zyy,bas,,,records_clerk;staff,
""".encode()


def test_csv_import_all_rows_or_nothing(ictx):
    admin = subject_of(ictx, "xitong_admin")
    bad = (
        GOOD_CSV
        + "bad name,E6003,坏行,nowhere,,123,,ghost_role,not-a-date\n".encode()
        + "liming2,E6001,重复工号,zyy,,,,,\n".encode()
    )
    with pytest.raises(ValidationFailed) as exc:
        engine.import_users_csv(ictx, admin, bad, reason="批量入职")
    pointers = {e.pointer for e in exc.value.errors}
    assert {
        "/rows/3/username",
        "/rows/3/institution",
        "/rows/3/phone",
        "/rows/3/roles",
        "/rows/3/expires_at",
        "/rows/4/employee_no",
    } <= pointers
    with ictx.db.unit_of_work() as s:
        assert (
            s.scalar(select(func.count()).select_from(User).where(User.username.in_(["liming", "zhaoyun"])))
            == 0
        )
    assert "user.import_rejected" in audit_actions(ictx, "xitong_admin")
    result = engine.import_users_csv(ictx, admin, GOOD_CSV, reason="批量入职")
    assert result.created == ["liming", "zhaoyun"] and result.assignments == 3
    assert engine.list_users(ictx, admin, q="李明")[0].roles == {"zyy": ["doctor"]}


def test_csv_import_outside_admin_scope_is_refused(ictx):
    with pytest.raises(ValidationFailed) as exc:
        engine.import_users_csv(ictx, subject_of(ictx, "zhangwei"), GOOD_CSV, reason="越权导入")
    assert "permission" in {e.validator for e in exc.value.errors}
    assert "access.denied" in audit_actions(ictx, "zhangwei")


def test_audit_admin_reads_and_verifies_and_reads_are_audited(ictx):
    auditor = subject_of(ictx, "shenji_admin")
    records = engine.list_audit_records(ictx, auditor, action="login", limit=5)
    assert records and all(r.action.startswith("login") for r in records)
    report = engine.verify_audit_log(ictx, auditor)
    assert report.ok
    assert {"audit.read", "audit.verified"} <= set(audit_actions(ictx, "shenji_admin"))
    public = set(engine.__all__)
    assert not {
        n for n in public if ("audit" in n and n.split("_")[0] in {"delete", "update", "edit", "purge"})
    }
