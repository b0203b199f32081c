"""``enrichment-demo`` as a reader runs it: a real process on free ports, its output read
line by line, its children listed (psutil), stopped with a signal.

Not a test module: the demo, recipe and shutdown tests share it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

import psutil

from tests.redis_server import free_port

DEMO = Path(sys.executable).parent / "enrichment-demo"
#: The demo's sample, server start and the ten-site crawl: ~15 s on a quiet machine, minutes
#: on a busy one.
READY_TIMEOUT_S = 500.0


class DemoProcess:
    """One ``enrichment-demo`` run in ``cwd`` on two free ports."""

    def __init__(
        self,
        cwd: Path,
        *extra: str,
        env: dict[str, str] | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.cwd = cwd
        self.port = free_port()
        self.metrics_port = metrics_port or free_port()
        self.args = [str(DEMO), "--port", str(self.port), "--metrics-port", str(self.metrics_port)]
        self.args += extra
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> DemoProcess:
        """Start the demo and a thread collecting its stdout."""
        self._proc = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until a printed line contains ``text``; fail with the output if the demo ends."""
        proc = self._proc
        assert proc is not None

        def seen() -> bool:
            return any(text in line for line in self.lines) or proc.poll() is not None

        with self._changed:
            self._changed.wait_for(seen, timeout_s)
        if not any(text in line for line in self.lines):
            stderr = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
            raise AssertionError(f"demo never printed {text!r}:\n{self.output}\n{stderr}")

    def children(self) -> list[psutil.Process]:
        """The demo's descendants right now."""
        assert self._proc is not None
        return psutil.Process(self._proc.pid).children(recursive=True)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        """Send ``sig`` to the demo alone and wait for its exit status."""
        assert self._proc is not None
        self._proc.send_signal(sig)
        return self._proc.wait(timeout_s)

    def wait(self, timeout_s: float = READY_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        """Until the demo exits by itself; its status and remaining stderr."""
        assert self._proc is not None
        code = self._proc.wait(timeout_s)
        stderr = self._proc.stderr.read() if self._proc.stderr else ""
        return subprocess.CompletedProcess(self.args, code, self.output, stderr)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Never leave the demo or a child of it running."""
        if self._proc is None:
            return
        leftovers = self.children() if self._proc.poll() is None else []
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(30)
        for child in leftovers:
            if child.is_running():
                child.kill()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


def survivors(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``processes`` still running (zombies count as gone)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive
