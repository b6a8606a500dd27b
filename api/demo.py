"""Load demo data into the configured database: the shipped processes and the demo district (idempotent)."""
from __future__ import annotations

import engine


def main() -> None:
    ctx = engine.open_engine()
    for result in engine.deploy_directory(ctx, ctx.settings.processes_dir, actor="demo-loader"):
        print(f"  {result.process_key} v{result.version} {'deployed' if result.created else 'up to date'}")
    engine.seed_policy(ctx)
    counts = engine.load_demo_identity(ctx)
    print(f"  demo district: +{counts['institutions']} institutions, +{counts['departments']} departments, "
          f"+{counts['users']} users, +{counts['roles']} role assignments "
          f"(password {engine.DEMO_PASSWORD}; see README 'Demo accounts')")


if __name__ == "__main__":
    main()
