"""A private, throwaway ``redis-server`` for tests that kill, freeze or restart Redis.

Not a test module: tests that need Redis to fail build one of these (loopback only, no
persistence, temp dir) instead of touching the machine's shared Redis.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_ping(port: int, timeout_s: float = 0.2) -> bool:
    """True if a Redis on ``port`` answers PING (raw RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on a fixed free port; restartable on that same port."""

    def __init__(self, binary: str = REDIS_SERVER, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://`` URL of db 0 on this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 5.0) -> None:
        """Start the server and wait until it answers PING."""
        log = (Path(self._dir.name) / "redis.log").open("ab")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--dir", self._dir.name, "--daemonize", "no"]
        with log:
            self._proc = subprocess.Popen([self.binary, *args], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while not answers_ping(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM) and wait for the process to exit."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """Abrupt death (SIGKILL), like a crashed or OOM-killed Redis."""
        self._signal(signal.SIGKILL)

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections open but nothing answers, like a hang."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a paused server (SIGCONT)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Kill (if running) and start again on the same port, with an empty dataset."""
        self.kill()
        self.start()

    def close(self) -> None:
        """Kill the server and remove its temp dir."""
        self.kill()
        self._dir.cleanup()

    def _signal(self, sig: signal.Signals) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.send_signal(signal.SIGCONT)  # a paused server only acts on SIGTERM once resumed
        proc.wait(timeout=5)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
