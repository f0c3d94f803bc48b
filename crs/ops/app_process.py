"""Start ``crs chat`` as a child process on its own port and database, and stop it.

Used by ``crs loadtest`` and ``crs crashtest`` (and their tests): they must drive the app
the way a browser does, over HTTP, in another process, so a kill -9 kills only the app.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from crs.settings import OFFLINE_ENV


class AppStartError(RuntimeError):
    """The app did not come up; the message carries the end of its log."""


def free_port(start: int | None = None, end: int | None = None) -> int:
    """A TCP port nobody listens on: the first free one of ``start..end``, else any."""
    if start is not None and end is not None:
        for port in range(start, end + 1):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppProcess:
    """One ``crs chat`` child process.

    Attributes:
        port: Where it listens (127.0.0.1).
        db: SQLite file of the session database (checkpoints beside it).
        store_dir: The movie store it serves.
        log: File receiving the app's stdout and stderr.
        env: Extra environment (e.g. ``CRS_TURN_CONCURRENCY``).
    """

    port: int
    db: Path
    store_dir: Path | None
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    started_s: float = 0.0
    _tick: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout_s: float = 300.0) -> "AppProcess":
        """Launch and wait until the page answers; raises AppStartError on exit or timeout."""
        return self.launch().wait_ready(timeout_s)

    def launch(self) -> "AppProcess":
        """Start the process without waiting (see :meth:`wait_ready`)."""
        cmd = [sys.executable, "-c", "from crs.cli import main; main()", "chat", "--host", "127.0.0.1",
               "--port", str(self.port), "--db", str(self.db)]
        if self.store_dir is not None:
            cmd += ["--store-dir", str(self.store_dir)]
        env = {**os.environ, **OFFLINE_ENV, **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        tick = time.perf_counter()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._tick = tick
        return self

    def wait_ready(self, timeout_s: float = 300.0) -> "AppProcess":
        """Wait until the launched app answers; raises AppStartError on exit or timeout."""
        tick = self._tick
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AppStartError(f"the app exited with code {self.proc.returncode} while starting:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2) as response:
                    if response.status == 200:
                        self.started_s = time.perf_counter() - tick
                        return self
            except OSError:
                time.sleep(0.3)
        self.kill()
        raise AppStartError(f"the app did not answer on {self.url} within {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def memory_mb(self) -> dict[str, float]:
        """Current and peak resident set size of the app process (Linux /proc), in MiB."""
        out: dict[str, float] = {}
        if self.proc is None:
            return out
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(int(value.split()[0]) / 1024, 1)
        except (OSError, ValueError):
            pass
        return out

    def kill(self) -> None:
        """SIGKILL the app (no clean-up runs: this is what the crash test wants)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> "AppProcess":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
