"""Task-page operations: each posts a form, the engine decides, a flash says what happened."""
from __future__ import annotations

import re

from tests.pages.conftest import LEAVE, as_user


def _leave_task(client, days="20"):
    r = client.post("/start/leave_request", data={**LEAVE, "days": days}, headers=as_user("nurse_li"))
    assert r.status_code == 303, r.text
    page = client.get("/inbox", headers=as_user("dr_wang")).text
    return re.search(r'href="/tasks/([0-9a-f-]{36})"', page).group(1)


def op(client, task_id, name, user="dr_wang", **data):
    return client.post(f"/tasks/{task_id}/op/{name}", data={"csrf_token": f"csrf-{user}", **data},
                       headers=as_user(user))


def test_task_page_offers_operations_with_csrf_and_labels(client):
    task_id = _leave_task(client)
    page = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    for name in ("send_back", "transfer", "delegate", "add_signer", "cc", "comment", "attach"):
        assert f'action="/tasks/{task_id}/op/{name}"' in page, name
    assert 'value="applicant"' in page and 'value="countersign"' in page
    assert 'for="comment-body"' in page and 'for="attach-file"' in page
    reader = client.get(f"/tasks/{task_id}", headers=as_user("nurse_li")).text
    assert "/op/transfer" not in reader and "/op/urge" in reader  # the initiator may urge, not transfer


def test_claim_comment_add_signer_urge_cc_attach(client):
    task_id = _leave_task(client)
    page = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    if 'id="op-claim"' in page:
        claimed = op(client, task_id, "claim")
        assert claimed.headers["location"] == f"/tasks/{task_id}?flash=op_claim"
        assert "已认领任务" in client.get(claimed.headers["location"], headers=as_user("dr_wang")).text
    r = op(client, task_id, "comment", body="请补充病历")
    assert r.status_code == 303 and r.headers["location"].endswith("flash=op_comment")
    assert "请补充病历" in client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    r = op(client, task_id, "cc", usernames="med_zhao", reason="知悉")
    assert r.status_code == 303, r.text
    r = op(client, task_id, "urge", user="nurse_li", reason="急")
    assert r.status_code == 303 and r.headers["location"].endswith("flash=op_urge"), r.text
    upload = client.post(f"/tasks/{task_id}/op/attach", data={"csrf_token": "csrf-dr_wang"},
                         files={"file": ("note.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n", "application/pdf")},
                         headers=as_user("dr_wang"))
    assert upload.status_code == 303, upload.text
    assert "note.pdf" in client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    r = op(client, task_id, "add_signer", username="med_zhao", position="after", reason="请医务处会签")
    assert r.status_code in (303, 403, 409, 422), r.text


def test_send_back_needs_reason_and_returns_to_applicant(client):
    task_id = _leave_task(client)
    done = client.post(f"/tasks/{task_id}", data={"outcome": "approve", "comment": "同意"}, headers=as_user("dr_wang"))
    assert done.status_code == 303
    page = client.get("/inbox", headers=as_user("med_zhao")).text
    second = re.search(r'href="/tasks/([0-9a-f-]{36})"', page).group(1)
    missing = op(client, second, "send_back", user="med_zhao", target="previous", reason="")
    assert missing.status_code == 422
    r = op(client, second, "send_back", user="med_zhao", target="previous", reason="材料不全")
    assert r.status_code == 303 and r.headers["location"] == "/inbox?tab=todo&flash=op_send_back", r.text
    assert "已退回" in client.get(r.headers["location"], headers=as_user("med_zhao")).text


def test_operations_are_refused_server_side(client):
    task_id = _leave_task(client)
    assert op(client, task_id, "transfer", user="outsider", username="alice").status_code == 403
    assert op(client, task_id, "send_back", user="nurse_li", target="previous", reason="x").status_code == 403
    assert op(client, task_id, "nonsense").status_code == 404


def test_notification_centre_lists_and_marks_read(client):
    task_id = _leave_task(client)
    op(client, task_id, "urge", user="nurse_li", reason="急")
    page = client.get("/notifications", headers=as_user("dr_wang"))
    assert page.status_code == 200
    ids = re.findall(r'id="notification-([^"]+)"', page.text)
    if ids:
        assert 'class="badge"' in page.text
        r = client.post("/notifications/read", data={"csrf_token": "csrf-dr_wang", "id": ids[0]},
                        headers=as_user("dr_wang"))
        assert r.headers["location"] == "/notifications?flash=marked_read"
        client.post("/notifications/read", data={"csrf_token": "csrf-dr_wang"}, headers=as_user("dr_wang"))
        after = client.get("/notifications?unread=1", headers=as_user("dr_wang")).text
        assert 'id="notification-' not in after


def test_remove_signer_lists_only_signers_i_added_who_have_not_acted(client):
    task_id = _leave_task(client)
    page = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    assert 'id="panel-remove_signer"' not in page  # nobody added yet: nothing to remove
    if 'id="op-claim"' in page:
        op(client, task_id, "claim")
    assert op(client, task_id, "add_signer", username="med_zhao", position="after", reason="请医务处会签"
              ).status_code == 303
    page = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>',
                         page.split('id="remove_signer-signer_id"')[1].split("</select>")[0])
    assert [label.split(" · ")[0] for _, label in options] == ["med_zhao"]  # not dr_wang himself
    r = op(client, task_id, "remove_signer", signer_id=options[0][0], reason="不需要了")
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{task_id}?flash=op_remove_signer"
    after = client.get(r.headers["location"], headers=as_user("dr_wang")).text
    assert "已减签" in after and 'id="panel-remove_signer"' not in after
    assert op(client, task_id, "remove_signer", user="nurse_li", signer_id=options[0][0]).status_code in (403, 409)


def test_buttons_come_from_task_actions_and_withdraw_goes_back_to_the_inbox(client):
    task_id = _leave_task(client)
    applicant = client.get(f"/tasks/{task_id}", headers=as_user("nurse_li")).text
    assert 'id="panel-urge"' in applicant and 'id="panel-withdraw"' not in applicant  # she completed no step
    assert "op-claim" not in applicant and 'name="_outcome"' not in applicant
    assert client.get(f"/tasks/{task_id}", headers=as_user("outsider")).status_code == 403
    done = client.post(f"/tasks/{task_id}", data={"outcome": "approve", "comment": "同意"}, headers=as_user("dr_wang"))
    assert done.status_code == 303
    mine = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    assert 'id="panel-withdraw"' in mine and 'id="panel-transfer"' not in mine  # done: read-only, may withdraw
    r = op(client, task_id, "withdraw", reason="再看看")
    assert r.status_code == 303 and r.headers["location"] == "/inbox?tab=todo&flash=op_withdraw", r.text
    inbox = client.get(r.headers["location"], headers=as_user("dr_wang")).text
    assert "已撤回" in inbox and re.search(r'href="/tasks/([0-9a-f-]{36})"', inbox)


def test_an_urged_task_carries_the_urgent_mark_in_the_inbox(client):
    task_id = _leave_task(client)
    assert "已催办" not in client.get("/inbox", headers=as_user("dr_wang")).text
    r = op(client, task_id, "urge", user="nurse_li", reason="急")
    assert r.status_code == 303, r.text
    page = client.get("/inbox", headers=as_user("dr_wang")).text
    row = page[page.index(f'href="/tasks/{task_id}"'):]
    row = row[:row.index("</tr>")]
    assert "tag-urgent" in row and "紧急" in row and "已催办" in row
    assert f'href="/tasks/{task_id}"' in client.get("/inbox?urgency=1", headers=as_user("dr_wang")).text
    assert f'href="/tasks/{task_id}"' not in client.get("/inbox?urgency=0", headers=as_user("dr_wang")).text
