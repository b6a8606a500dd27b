"""Server-rendered staff pages (Jinja2). Every handler calls the engine's public functions only."""
from fastapi import APIRouter

from api.pages import (
    account,
    admin,
    admin_accounts,
    admin_clients,
    admin_org,
    inbox,
    instances,
    notices,
    operations,
    start,
    stats,
    tasks,
)

router = APIRouter(include_in_schema=False)
for _module in (account, admin_accounts, admin, admin_org, admin_clients, inbox, notices, operations, tasks, start,
                instances, stats):
    router.include_router(_module.router)
