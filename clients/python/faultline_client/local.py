"""A `faultline run --api` on this machine, for tests: LocalBox starts it on virtual ports and
ends it (by its PID) when the block ends.

    with LocalBox("/usr/bin/faultline", token="t") as box:   # a Box, connected
        box.apply("profiles/split-brain.yaml")

The ports are two net_ring vdevs (each a ring its frames loop through: no traffic unless a test
sends some) with EAL's --no-huge --no-shconf, so several boxes run side by side; the worker
sleeps when idle (--idle-sleep), so a box costs little CPU on a shared machine. On such a
machine a sleeping worker may wait for a CPU, so apply and heal give it 5 s to take a change
(--apply-timeout; the daemon's default is 1 s)."""

import os
import signal
import socket
import subprocess
import tempfile
import time

from faultline_client.client import Box

EAL_ARGS = ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "-l", "0",
            "--vdev=net_ring0", "--vdev=net_ring1"]


def binary_from_environment():
    """$FAULTLINE_BIN (meson test sets it to build/faultline), or None."""
    return os.environ.get("FAULTLINE_BIN") or None


def free_port():
    """A TCP port nothing listens on now (the box binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalBox:
    def __init__(self, binary, profile=None, token=None, extra_args=(), start_timeout=30.0,
                 apply_timeout="5s"):
        self.binary = binary
        self.profile = profile
        self.token = token
        self.extra_args = list(extra_args)
        self.apply_timeout = apply_timeout
        self.start_timeout = start_timeout
        self.process = None
        self.box = None
        self._dir = None

    @property
    def output(self):
        with open(os.path.join(self._dir.name, "output"), encoding="utf-8",
                  errors="replace") as f:
            return f.read()

    def start(self):
        self._dir = tempfile.TemporaryDirectory(prefix="faultline-localbox-")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [self.binary, "run", "--control", os.path.join(self._dir.name, "control.sock"),
                "--api", f"127.0.0.1:{port}", "--workers", "1", "--idle-sleep", "100us",
                "--apply-timeout", self.apply_timeout]
        if self.profile:
            argv += ["--profile", self.profile]
        token_file = None
        if self.token is not None:
            token_file = os.path.join(self._dir.name, "token")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self.token + "\n")
            argv += ["--api-token-file", token_file]
        argv += self.extra_args + ["--"] + EAL_ARGS
        output = open(os.path.join(self._dir.name, "output"), "w")
        self.process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        output.close()
        deadline = time.monotonic() + self.start_timeout
        while "faultline: forwarding" not in self.output:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"faultline run did not start:\n{self.output}")
            time.sleep(0.05)
        self.box = Box(url, token_file=token_file)
        self.box.local = self  # the process, its output
        return self.box

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        status = None if self.process is None else self.process.returncode
        return status

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
        return False
