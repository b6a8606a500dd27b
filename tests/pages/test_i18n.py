"""One translation mechanism: every key used by templates and page code exists in zh-CN and en."""
from __future__ import annotations

import json
import re
from pathlib import Path

from api.i18n import LOCALES, from_accept_language, messages, negotiate, translate
from engine import SECURITY_LIMITS

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r"""\b_\(\s*["']([A-Za-z0-9_.]+)["']""")
PY_LITERAL = re.compile(r"""\bt\(request,\s*["']([A-Za-z0-9_.]+)["']""")
# Keys built at run time from engine values: every value the shipped content can produce must exist.
DYNAMIC = {
    "tab": ["todo", "done", "mine", "cc"],
    "urgency": ["0", "1", "2"],
    "status": ["open", "completed", "cancelled", "running", "suspended", "error"],
    "flash": ["completed", "started", "saved", "password_changed", "logged_out", "done", "marked_read",
              "op_remove_signer", "op_withdraw", "admin_user_created", "admin_institution_saved",
              "admin_department_saved", "admin_client_saved"],
    "action": ["instance.start", "task.complete"],
    "error": ["status_401", "status_403", "status_404", "status_409", "status_422"],
    "inbox": ["empty_todo", "empty_done", "empty_mine", "empty_cc"],
    "login.error": ["missing", "bad_credentials", "bad_totp", "locked", "account_expired", "inactive"],
    "totp.error": ["bad_totp", "already_enrolled", "not_pending"],
    "password.rule": ["too_short", "too_few_classes", "contains_username", "reused", "mismatch", "bad_current",
                      "invalid", "required"],
    "op": ["claim", "unclaim", "send_back", "transfer", "delegate", "add_signer", "remove_signer", "withdraw", "urge",
           "cc", "comment", "attach"],
    "admin": ["security"],
    "security": list(SECURITY_LIMITS),
    "admin.action": [],
    "admin.incident": [],
    "op.position": [],
    "op.user": [],
}
DYNAMIC_UNDERSCORE = {"admin.action_": ["unlock", "reset_password", "deactivate", "activate"],
                      "admin.page_": ["users", "user_new", "user_import", "institutions", "departments",
                                      "api_clients", "security", "audit", "incidents"],
                      "admin.kind_": ["hospital", "campus", "community"],
                      "admin.client_": ["rotate", "disable", "enable"],
                      "op.signer_state_": ["open", "pending"],
                      "admin.incident_": ["retry", "skip"], "op.position_": ["before", "after", "countersign"],
                      "op.user_": ["username", "usernames"]}


def _used_keys() -> set[str]:
    keys = set()
    for path in (ROOT / "api" / "templates").rglob("*.html"):
        keys |= set(LITERAL.findall(path.read_text("utf-8")))
    for path in (ROOT / "api").rglob("*.py"):
        keys |= set(PY_LITERAL.findall(path.read_text("utf-8")))
    keys |= {f"{prefix}.{value}" for prefix, values in DYNAMIC.items() for value in values}
    keys |= {f"{prefix}{value}" for prefix, values in DYNAMIC_UNDERSCORE.items() for value in values}
    return keys


def _outcomes() -> set[str]:
    found = set()
    for bpmn in (ROOT / "processes").rglob("*.bpmn"):
        for group in re.findall(r'hospital:outcomes="([^"]+)"', bpmn.read_text("utf-8")):
            found |= set(group.split(","))
    for form in (ROOT / "forms").glob("*.schema.json"):
        outcome = json.loads(form.read_text("utf-8")).get("properties", {}).get("outcome", {})
        found |= set(outcome.get("enum", []))
    return found | {"approve", "reject"}


def test_every_used_key_exists_in_every_locale():
    used = _used_keys() | {f"outcome.{o}" for o in _outcomes()}
    # `_("tab." ~ key)` in a template: the prefix must be one whose values are listed above.
    prefixes = {k for k in used if k.endswith(".") or k.endswith("_")}
    covered = {f"{p}." for p in DYNAMIC} | {"outcome.", "error.status_", "inbox.empty_"}
    covered |= set(DYNAMIC_UNDERSCORE)
    assert prefixes <= covered, prefixes - covered
    used -= prefixes
    assert len(used) > 100
    for locale in LOCALES:
        missing = sorted(used - set(messages(locale)))
        assert missing == [], f"{locale} lacks {missing}"


def test_locales_have_the_same_keys_and_placeholders():
    zh, en = messages("zh-CN"), messages("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"{(\w+)}", zh[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_negotiation_order_query_cookie_header_default():
    assert negotiate("en", "zh-CN", "zh") == "en"
    assert negotiate(None, "en", "zh-CN") == "en"
    assert negotiate(None, None, "fr;q=1, en-US;q=0.8, zh;q=0.5") == "en"
    assert negotiate(None, None, "zh-TW,en;q=0.1") == "zh-CN"
    assert negotiate("xx", None, None) == "zh-CN"
    assert from_accept_language("en;q=0") is None


def test_translate_fills_placeholders_and_falls_back():
    assert translate("en", "inbox.total", n=3) == "3 items"
    assert translate("zh-CN", "inbox.total", n=3) == "共 3 条"
    assert translate("en", "no.such.key") == "no.such.key"
