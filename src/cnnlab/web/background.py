"""Run the page's server in a background thread (for notebooks, scripts and tests)::

from cnnlab.web import create_app
from cnnlab.web.background import BackgroundServer
from cnnlab.web.models import ModelFolder

with BackgroundServer(create_app(ModelFolder("models"))) as url:
    print(url)  # http://127.0.0.1:53117/ (a free port)
"""

from __future__ import annotations

import threading
import time


class BackgroundServer:
    """uvicorn serving ``app`` on 127.0.0.1 and a free port, in a daemon thread.

    Use as a context manager; ``url`` is ``http://127.0.0.1:PORT/``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0):
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.timeout = timeout
        self.url = None

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + self.timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("BackgroundServer: the server did not start")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}/"
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(self.timeout)
