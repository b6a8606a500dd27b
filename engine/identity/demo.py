"""Demo district for `make run`: institutions, departments and 30+ users across every role (idempotent).

All demo users share ``DEMO_PASSWORD`` and need no password change. Admin users are marked
TOTP-exempt, which the login only honours when ``settings.environment == "development"``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.identity._common import PRIVILEGED_ROLES, hasher, now, record
from engine.identity.policy import add_rules, authorizer, bump_version, seed_rules
from engine.models import Department, Institution, User
from engine.security.passwords import hash_password

DEMO_PASSWORD = "Demo@2026hosp"

INSTITUTIONS = [  # code, name, kind, parent
    ("rmyy", "区人民医院", "hospital", None),
    ("rmyy_main", "区人民医院院本部", "campus", "rmyy"),
    ("rmyy_east", "区人民医院东院区", "campus", "rmyy"),
    ("zyy", "区中医院", "hospital", None),
    ("sq_east", "城东社区卫生服务中心", "community", None),
    ("sq_west", "城西社区卫生服务中心", "community", None),
]
HOSPITAL_DEPTS = [
    ("nk", "内科"),
    ("wk", "外科"),
    ("bas", "病案室"),
    ("ywc", "医务处"),
    ("cwc", "财务处"),
    ("sfc", "收费处"),
    ("zzb", "转诊办"),
    ("rzzx", "入院准备中心"),
    ("mzk", "麻醉科"),
    ("xxk", "信息科"),
]
COMMUNITY_DEPTS = [("qk", "全科"), ("hl", "护理部"), ("zzb", "转诊办"), ("bas", "病案室")]

# username, employee no, name, institution, department, roles (domain = institution unless "*")
USERS = [
    ("xitong_admin", "E0001", "王建国", "rmyy", "xxk", [("sys_admin", "*")]),
    ("anquan_admin", "E0002", "李安", "rmyy", "xxk", [("security_admin", "*")]),
    ("shenji_admin", "E0003", "赵审", "rmyy", "xxk", [("audit_admin", "*")]),
    ("liucheng_admin", "E0004", "陈流", "rmyy", "xxk", [("process_admin", "*")]),
    ("zhangwei", "E1001", "张伟", "rmyy_main", "nk", ["doctor"]),
    ("wangfang", "E1002", "王芳", "rmyy_main", "nk", ["nurse"]),
    ("liuqiang", "E1003", "刘强", "rmyy_main", "nk", ["dept_head", "doctor"]),
    ("chenjing", "E1004", "陈静", "rmyy_main", "bas", ["records_clerk"]),
    ("yangli", "E1005", "杨丽", "rmyy_main", "bas", ["records_head"]),
    ("zhaolei", "E1006", "赵磊", "rmyy_main", "ywc", ["medical_affairs"]),
    ("sunyan", "E1007", "孙燕", "rmyy_main", "cwc", ["finance"]),
    ("zhouxin", "E1008", "周鑫", "rmyy_main", "sfc", ["cashier"]),
    ("wuhao", "E1009", "吴昊", "rmyy_main", "zzb", ["referral_office"]),
    ("zhengmei", "E1010", "郑梅", "rmyy_main", "rzzx", ["admission_center"]),
    ("huangbin", "E1011", "黄斌", "rmyy_main", "mzk", ["anesthetist"]),
    ("xuming", "E1012", "徐明", "rmyy_main", "wk", ["expert", "doctor", ("expert", "zyy")]),
    ("hexia", "E1013", "何霞", "rmyy_main", "nk", ["staff"]),
    ("zhujun", "E1014", "朱军", "rmyy_main", "wk", ["dept_head", "doctor"]),
    ("qianjin", "E1015", "钱进", "rmyy_main", "nk", ["expert", "doctor"]),
    ("lujia", "E1016", "陆佳", "rmyy_main", "wk", ["expert", "doctor"]),
    ("guoyong", "E2001", "郭勇", "rmyy_east", "nk", ["doctor"]),
    ("majuan", "E2002", "马娟", "rmyy_east", "nk", ["nurse"]),
    ("linfeng", "E2003", "林峰", "rmyy_east", "nk", ["dept_head", "doctor"]),
    ("luoting", "E2004", "罗婷", "rmyy_east", "bas", ["records_clerk"]),
    ("gaojie", "E2005", "高洁", "rmyy_east", "rzzx", ["admission_center"]),
    ("liangchen", "E2006", "梁晨", "rmyy_east", "mzk", ["anesthetist"]),
    ("songjia", "E3001", "宋佳", "zyy", "nk", ["doctor"]),
    ("tangwen", "E3002", "唐文", "zyy", "nk", ["dept_head", "doctor"]),
    ("hanxue", "E3003", "韩雪", "zyy", "bas", ["records_head"]),
    ("fengyu", "E3004", "冯宇", "zyy", "zzb", ["referral_office"]),
    ("dengchao", "E3005", "邓超", "zyy", "sfc", ["cashier"]),
    ("caolin", "E3006", "曹琳", "zyy", "cwc", ["finance"]),
    ("xiehua", "E4001", "谢华", "sq_east", "qk", ["community_doctor"]),
    ("yuqing", "E4002", "于青", "sq_east", "hl", ["nurse"]),
    ("jiangtao", "E4003", "江涛", "sq_east", "qk", ["dept_head", "community_doctor"]),
    ("lihong", "E4004", "李红", "sq_east", "bas", ["records_clerk"]),
    ("dongbo", "E5001", "董波", "sq_west", "qk", ["community_doctor"]),
    ("panli", "E5002", "潘莉", "sq_west", "zzb", ["referral_office"]),
]


def _grants(username: str, institution: str, roles: list) -> list[list[str]]:
    out = []
    for item in roles:
        role, domain = (item, institution) if isinstance(item, str) else item
        out.append([username, role, domain])
    return out


def _load(ctx: EngineContext, session: Session) -> dict[str, int]:
    at = now(ctx)
    counts = {"institutions": 0, "departments": 0, "users": 0, "roles": 0}
    seed_rules(ctx, session)
    for code, name, kind, parent in INSTITUTIONS:
        if session.get(Institution, code) is None:
            session.add(
                Institution(code=code, name=name, kind=kind, parent_code=parent, created_at=at, updated_at=at)
            )
            session.flush()
            counts["institutions"] += 1
        depts = COMMUNITY_DEPTS if kind == "community" else HOSPITAL_DEPTS
        for dcode, dname in depts:
            found = session.scalars(
                select(Department).where(Department.institution_code == code, Department.code == dcode)
            ).first()
            if found is None:
                session.add(Department(institution_code=code, code=dcode, name=dname, created_at=at))
                counts["departments"] += 1
    session.flush()
    demo_hash = None
    grants: list[list[str]] = []
    for username, emp, name, inst, dept, roles in USERS:
        grants += _grants(username, inst, roles)
        if session.scalars(select(User.id).where(User.username == username)).first():
            continue
        demo_hash = demo_hash or hash_password(
            DEMO_PASSWORD, hasher=hasher(ctx)
        )  # one hash for all demo users
        dept_id = session.scalars(
            select(Department.id).where(Department.institution_code == inst, Department.code == dept)
        ).first()
        privileged = any((r if isinstance(r, str) else r[0]) in PRIVILEGED_ROLES for r in roles)
        session.add(
            User(
                username=username,
                employee_no=emp,
                display_name=name,
                institution_code=inst,
                department_id=dept_id,
                password_hash=demo_hash,
                password_history=[demo_hash],
                password_changed_at=at,
                must_change_password=False,
                created_at=at,
                updated_at=at,
                totp_exempt=privileged and ctx.settings.environment == "development",
            )
        )
        counts["users"] += 1
    session.flush()
    counts["roles"] = add_rules(session, "g", grants)
    if counts["roles"]:
        bump_version(ctx, session)
    if any(counts.values()):
        record(
            ctx,
            session,
            actor="demo-loader",
            action="demo.identity_loaded",
            reason="演示数据",
            details=counts,
        )
    return counts


def load_demo_identity(ctx: EngineContext) -> dict[str, int]:
    """Create the demo district (institutions, departments, users, role assignments) if missing.

    Returns:
        How many institutions, departments, users and role assignments were added.
    """
    counts = ctx.db.run(lambda s: _load(ctx, s))
    authorizer(ctx, force=True)
    return counts
