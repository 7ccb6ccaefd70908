"""The production web server: waitress, with a deadline for reading each request.

Why waitress (docs/operations.md, "The web server"): its one I/O thread reads every connection
without blocking and hands a request to a worker thread only once the whole request, body
included, has arrived. A client that trickles its body a byte a second holds a socket, never a
thread, so it cannot starve the threads that answer Twilio. (gunicorn's sync and gthread workers
read the body inside the worker thread: six such clients stopped a 2x2 gunicorn.)

What waitress lacks we add here: a deadline for reading a whole request (its own channel_timeout
only closes connections that are *silent*; a 1 byte/s client never is). ``hotline serve`` runs
this server in one process; ``hotline web`` (the Procfile) runs one per core under gunicorn's
master (webprocesses.py).
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

log = logging.getLogger(__name__)

# A whole request (headers and body) must arrive within this many seconds. Twilio sends a webhook
# of a few KB at once and gives up waiting for the answer after 15 s anyway.
REQUEST_READ_TIMEOUT = 15
# A keep-alive connection silent this long is closed.
IDLE_TIMEOUT = 30
# How often the deadlines are checked (seconds).
CHECK_INTERVAL = 2
# Open connections at once; beyond this waitress stops accepting until some close. Each slow
# client costs a socket and a few KB, and the read deadline frees it within 15 s.
CONNECTION_LIMIT = 1000
THREADS = 4
MAX_BODY = 64 * 1024           # as app.MAX_REQUEST_BYTES: Twilio's largest webhooks are a few KB
MAX_HEADERS = 32 * 1024


class _DeadlineChannel(HTTPChannel):
    """A connection that remembers since when it has been reading an unfinished request."""

    reading_since: float | None = None

    def received(self, data):
        result = super().received(data)
        if self.request is None:
            self.reading_since = None          # no partial request: nothing is being read
        elif self.reading_since is None:
            self.reading_since = time.time()
        return result


class _HotlineServer(TcpWSGIServer):
    channel_class = _DeadlineChannel
    read_timeout: float = REQUEST_READ_TIMEOUT

    def maintenance(self, now):
        super().maintenance(now)
        cutoff = now - self.read_timeout
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "reading_since", None)
            if since is not None and since < cutoff:
                log.warning("closed a connection that took over %ss to send its request", self.read_timeout)
                channel.will_close = True


class WebServer:
    """An I/O thread and ``threads`` worker threads, on a socket of its own (``host``, ``port``) or on
    listening sockets another process opened (``sockets``: a gunicorn master's, webprocesses.py)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = THREADS,
                 read_timeout: float = REQUEST_READ_TIMEOUT, connection_limit: int = CONNECTION_LIMIT,
                 sockets: list[socket.socket] | None = None):
        where = {"sockets": sockets} if sockets else {"host": host, "port": port}
        adjustments = Adjustments(
            **where, threads=threads, connection_limit=connection_limit,
            channel_timeout=IDLE_TIMEOUT, cleanup_interval=CHECK_INTERVAL,
            max_request_body_size=MAX_BODY, max_request_header_size=MAX_HEADERS,
            # No "Server:" header: it tells an attacker which server's bugs to try.
            ident="",
            # X-Forwarded-* are left for the app's ProxyFix (HOTLINE_TRUSTED_PROXIES decides);
            # waitress would otherwise strip them before the app sees them.
            clear_untrusted_proxy_headers=False,
            # A poll() loop: select() cannot watch more than 1024 sockets.
            asyncore_use_poll=True,
        )
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(threads)
        self._map: dict = {}
        if sockets:
            self.servers = [
                _HotlineServer(app, self._map, _sock=sock, dispatcher=dispatcher, adj=adjustments, bind_socket=False,
                               sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
                for sock in adjustments.sockets
            ]
        else:
            self.servers = [_HotlineServer(app, self._map, dispatcher=dispatcher, adj=adjustments,
                                           sockinfo=adjustments.listen[0])]
        self.server = self.servers[0]
        for server in self.servers:
            server.read_timeout = read_timeout
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def host(self) -> str:
        return str(self.server.effective_host)

    def serve_forever(self) -> None:
        try:
            self.server.run()
        finally:
            self._stopped.set()

    def serve_while(self, keep_serving, heartbeat, every: float = 1.0, drain: float = 10.0) -> None:
        """Serve while ``keep_serving()`` is true, calling ``heartbeat()`` at least every ``every``
        seconds; then stop accepting and let the requests already read finish (up to ``drain``
        seconds) before the threads stop."""
        beat = 0.0
        while keep_serving():
            wasyncore.loop(timeout=every, map=self._map, use_poll=True, count=1)
            now = time.monotonic()
            if now - beat >= every:
                heartbeat()
                beat = now
        for server in self.servers:
            server.accepting = False       # the listening socket stays open for the other processes
            server.del_channel()
        deadline = time.monotonic() + drain
        while self._busy() and time.monotonic() < deadline:
            wasyncore.loop(timeout=0.1, map=self._map, use_poll=True, count=1)
        self._stopped.set()
        self.shutdown(timeout=max(deadline - time.monotonic(), 0.1))

    def _busy(self) -> bool:
        """A request is being answered, or an answer is still being written out."""
        return any(channel.requests or channel.total_outbufs_len for channel in self._map.values()
                   if isinstance(channel, HTTPChannel))

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop listening, close every connection and end the loop (from any thread)."""
        self.server.task_dispatcher.shutdown(timeout=timeout)
        wasyncore.close_all(self._map)
        self._stopped.wait(timeout)
