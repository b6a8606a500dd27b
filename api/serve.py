"""Start the platform on the embedded default and print the URL to open."""
from __future__ import annotations

import os

import uvicorn

from api.app import build_app

# Outlives clients' idle keep-alive (browsers, httpx 5 s): with uvicorn's default of 5 s a request sent as
# the server closes the idle connection fails with a transport error (bench/sustained_load.py saw it).
KEEP_ALIVE_SECONDS = 30


def main() -> None:
    host = os.environ.get("HWF_HOST", "127.0.0.1")
    port = int(os.environ.get("HWF_PORT", "8000"))
    print(f"\n  医院流程平台已启动 / Hospital workflow platform running: http://{host}:{port}/\n", flush=True)
    uvicorn.run(build_app(), host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_SECONDS)


if __name__ == "__main__":
    main()
