"""Load demo data into the configured database: the shipped processes (idempotent)."""
from __future__ import annotations

import engine


def main() -> None:
    ctx = engine.open_engine()
    for result in engine.deploy_directory(ctx, ctx.settings.processes_dir, actor="demo-loader"):
        print(f"  {result.process_key} v{result.version} {'deployed' if result.created else 'up to date'}")


if __name__ == "__main__":
    main()
