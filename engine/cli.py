"""Command line: `python -m engine <command>` (also installed as `hospital-wf`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import engine
from engine.bpmn.validation import format_diagnostics
from engine.definitions import bundle_from_directory
from engine.errors import EngineError


def _subject(args: argparse.Namespace) -> engine.Subject:
    roles: dict[str, set[str]] = {}
    for item in args.roles or []:
        institution, role = item.split(":", 1)
        roles.setdefault(institution, set()).add(role)
    return engine.Subject(args.user, {k: frozenset(v) for k, v in roles.items()})


def _bundles(paths: list[str]) -> list[dict[str, bytes]]:
    bundles = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            bundles.extend(bundle_from_directory(path))
        else:
            files = {path.name: path.read_bytes()}
            files.update({d.name: d.read_bytes() for d in path.parent.glob("*.dmn")})
            bundles.append(files)
    return bundles


def _print(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _cmd_validate(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    worst = 0
    for files in _bundles(args.paths):
        diagnostics = engine.validate_definition(ctx, files)
        print(f"{', '.join(sorted(files))}: {'OK' if not diagnostics else ''}")
        if diagnostics:
            print(format_diagnostics(diagnostics))
        worst = max(worst, int(any(d.severity == "error" for d in diagnostics)))
    return worst


def _cmd_deploy(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    for files in _bundles(args.paths):
        r = engine.deploy(ctx, files, actor=args.user, comment=args.comment)
        print(f"{r.process_key} v{r.version} {'deployed' if r.created else 'unchanged'}")
    return 0


def _cmd_start(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    view = engine.start_instance(ctx, args.key, initiator=args.user, institution=args.institution,
                                 business_key=args.business_key, data=json.loads(args.data))
    _print(view.to_dict())
    return 0


def _cmd_tasks(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    _print([t.to_dict() for t in engine.list_tasks(ctx, _subject(args), state=args.state)])
    return 0


def _cmd_complete(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    result = engine.complete_task(ctx, args.task_id, _subject(args), outcome=args.outcome,
                                  data=json.loads(args.data))
    _print(result.instance.to_dict())
    return 0


def _cmd_show(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    _print(engine.get_instance(ctx, args.instance_id).to_dict())
    return 0


def _cmd_migrate(ctx: engine.EngineContext, _args: argparse.Namespace) -> int:
    engine.migrate_database(ctx)
    print("database at head")
    return 0


def _cmd_verify_audit(ctx: engine.EngineContext, _args: argparse.Namespace) -> int:
    report = engine.verify_audit_chain(ctx)
    status = "OK" if report.ok else f"BROKEN at {report.first_bad_seq}: {report.problem}"
    print(f"checked {report.checked} records: {status}")
    return 0 if report.ok else 1


def _cmd_reseal(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    report = engine.reseal_sensitive(ctx, batch=args.batch, actor=args.user)
    rows = ", ".join(f"{store} {n}" for store, n in report.rows.items())
    print(f"re-sealed {report.values} values under key v{report.key_version} ({rows})")
    return 0


def _cmd_export(ctx: engine.EngineContext, args: argparse.Namespace) -> int:
    forms_dir = Path(args.forms_dir) if args.forms_dir else None
    result = engine.export_definition(ctx, args.key, Path(args.out), version=args.version,
                                      forms_dir=forms_dir)
    print(f"{result.process_key} v{result.version}: {len(result.written)} files")
    for path in result.written:
        print(f"  {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hospital-wf", description="医院流程平台 engine CLI")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)
    sub.add_parser("verify-audit", help="verify the audit hash chain").set_defaults(func=_cmd_verify_audit)
    for name, func in (("validate", _cmd_validate), ("deploy", _cmd_deploy)):
        p = sub.add_parser(name, help=f"{name} BPMN files or folders")
        p.add_argument("paths", nargs="+")
        p.add_argument("--user", default="cli")
        p.add_argument("--comment", default="")
        p.set_defaults(func=func)
    p = sub.add_parser("start", help="start an instance")
    p.add_argument("key")
    p.add_argument("--user", required=True)
    p.add_argument("--institution", required=True)
    p.add_argument("--business-key")
    p.add_argument("--data", default="{}")
    p.set_defaults(func=_cmd_start)
    for name, func in (("tasks", _cmd_tasks), ("complete", _cmd_complete)):
        p = sub.add_parser(name)
        if name == "complete":
            p.add_argument("task_id")
            p.add_argument("--outcome")
            p.add_argument("--data", default="{}")
        else:
            p.add_argument("--state", default="open")
        p.add_argument("--user", required=True)
        p.add_argument("--roles", nargs="*", help="institution:role pairs")
        p.set_defaults(func=func)
    p = sub.add_parser("export", help="write a deployed version back to files (BPMN/DMN + forms)")
    p.add_argument("key")
    p.add_argument("--version", type=int, help="default: latest")
    p.add_argument("--out", required=True, help="e.g. processes/<family>/")
    p.add_argument("--forms-dir", help="default: the configured forms/ folder")
    p.set_defaults(func=_cmd_export)
    p = sub.add_parser("reseal", help="re-encrypt sealed fields under the current field key (key rotation)")
    p.add_argument("--batch", type=int, default=500, help="rows per transaction")
    p.add_argument("--user", default="cli")
    p.set_defaults(func=_cmd_reseal)
    p = sub.add_parser("show", help="show an instance")
    p.add_argument("instance_id")
    p.set_defaults(func=_cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ctx = engine.open_engine()
    try:
        return int(args.func(ctx, args))
    except EngineError as exc:
        print(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2, default=str), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
