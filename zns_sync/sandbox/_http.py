"""The one piece both emulators share: a threading HTTP server on loopback, run in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


class LoopbackServer:
    """Serves `handler_class` (whose `owner` becomes this object) on 127.0.0.1; port 0 picks a free port."""

    handler_class: ClassVar[type[BaseHTTPRequestHandler]]
    thread_name: ClassVar[str]

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321`."""
        if self._server is None:
            raise RuntimeError(f"the {self.thread_name} is not running: call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve in a background daemon thread; returns self (a second call does nothing)."""
        if self._server is not None:
            return self
        self.before_start()
        handler = type("Handler", (self.handler_class,), {"owner": self})
        server = ThreadingHTTPServer((self.host, self.port), handler, bind_and_activate=False)
        server.daemon_threads = True
        # The listen backlog, before listen() is called (the constructor would call it with socketserver's 5): a
        # client opening dozens of connections at once (Zuora's 40) had the 6th onwards wait for a SYN resent 1 s on.
        server.request_queue_size = 128
        try:
            server.server_bind()
            server.server_activate()
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def before_start(self) -> None:
        """Prepare what the handler needs (a hook for subclasses)."""

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
