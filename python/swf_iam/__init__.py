"""swf-iam from Python: find the `swf-iam` binary this package installed, run `serve` on a
free loopback port, reset it, move its clock, read its decision log, and hand out boto3
clients and environments signed as the configuration's principals.

The pytest plugin (`swf_iam.pytest_plugin`, registered as a `pytest11` entry point) builds
its `swf_iam` fixture on `Server`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

__all__ = ["find_swf_iam_bin", "Server", "ServerError", "Clock", "principals_with_keys"]


class ServerError(RuntimeError):
    """`swf-iam serve` could not start (its own message), or a control call failed."""


def find_swf_iam_bin() -> str:
    """The `swf-iam` binary: `$SWF_IAM_BIN`, else the one this package installed beside the
    interpreter's scripts, else the first on `PATH`."""
    env = os.environ.get("SWF_IAM_BIN")
    if env:
        return env
    exe = "swf-iam.exe" if sys.platform == "win32" else "swf-iam"
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = Path(scripts) / exe
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError("swf-iam is not installed: pip install swf-iam (or set SWF_IAM_BIN)")


def principals_with_keys(config_path: str) -> List[Tuple[str, str, str]]:
    """(principal ARN, access key ID, secret) of every access key a configuration file
    gives: in `principals[].accessKeys` and in the top-level `accessKeys`."""
    with open(config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    out: List[Tuple[str, str, str]] = []
    for p in cfg.get("principals", []) or []:
        for k in p.get("accessKeys", []) or []:
            out.append((p["arn"], k["accessKeyId"], k["secretAccessKey"]))
    for k in cfg.get("accessKeys", []) or []:
        out.append((k["principal"], k["accessKeyId"], k["secretAccessKey"]))
    return out


class Clock:
    """The emulator's clock (`serve --clock frozen` by default here): `now()` and
    `advance(seconds)`, which fires every timeout and timer that falls due."""

    def __init__(self, server: "Server"):
        self._server = server

    def now(self) -> float:
        """The emulator's time, in epoch seconds."""
        return float(self._server._control("GET", "/swf-iam/clock")["epochSeconds"])

    def advance(self, seconds: float) -> float:
        """Moves the clock forward by `seconds`; the new time."""
        r = self._server._control("POST", "/swf-iam/clock", {"advance": seconds})
        return float(r["epochSeconds"])

    def set(self, when: str) -> float:
        """Moves the clock forward to `when` (ISO 8601); the new time."""
        r = self._server._control("POST", "/swf-iam/clock", {"set": when})
        return float(r["epochSeconds"])


class Server:
    """A `swf-iam serve` process on a free loopback port.

    `config` is the configuration file; `clock` is `frozen` (the default here: time moves
    only when a test moves it) or `real`; `poll_timeout` bounds long polls (seconds)."""

    def __init__(
        self,
        config: str,
        *,
        clock: str = "frozen",
        poll_timeout: int = 2,
        binary: Optional[str] = None,
        extra: Iterable[str] = (),
    ):
        self.config = str(config)
        self.binary = binary or find_swf_iam_bin()
        self._clock_mode = clock
        self._poll_timeout = poll_timeout
        self._extra = list(extra)
        self._proc: Optional[subprocess.Popen] = None
        self._dir = tempfile.mkdtemp(prefix="swf-iam-")
        self.decision_log = os.path.join(self._dir, "decisions.jsonl")
        self.endpoint = ""
        self.clock = Clock(self)
        self.started_in = 0.0
        self._keys = principals_with_keys(self.config)
        self.region = self._region()

    def _region(self) -> str:
        try:
            with open(self.config, encoding="utf-8") as f:
                return json.load(f).get("region", "us-east-1")
        except (OSError, ValueError):
            return "us-east-1"

    def start(self) -> "Server":
        """Starts the server and waits for its banner; `ServerError` with swf-iam's own
        message when it refuses to start (a missing or invalid configuration)."""
        t0 = time.monotonic()
        cmd = [
            self.binary, "serve", "--listen", "127.0.0.1:0", "--config", self.config,
            "--poll-timeout", str(self._poll_timeout), "--clock", self._clock_mode,
            "--decision-log", self.decision_log, *self._extra,
        ]
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        if not first:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            self._proc.wait()
            raise ServerError(err.strip() or f"swf-iam serve exited with {self._proc.returncode}")
        url = next((w for w in first.split() if w.startswith("http://")), None)
        if url is None:
            self.stop()
            raise ServerError(f"no address in the banner: {first.strip()}")
        self.endpoint = url
        # Drain the banner and standard error, as a terminal would.
        for stream in (self._proc.stdout, self._proc.stderr):
            threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
        self.started_in = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 5 s)."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise ServerError(e.read().decode(errors="replace")) from None

    def reset(self) -> None:
        """Clears every region's state (and the sessions STS issued), then applies the
        configuration's `register` again."""
        self._control("POST", "/swf-iam/reset")

    def keys(self, principal: Optional[str] = None) -> Tuple[str, str, str]:
        """(ARN, access key ID, secret) of `principal` (default: the first principal with
        a key)."""
        for arn, akid, secret in self._keys:
            if principal is None or arn == principal:
                return arn, akid, secret
        known = ", ".join(sorted({a for a, _, _ in self._keys})) or "none"
        raise KeyError(f"no access key for {principal} in {self.config} (principals with keys: {known})")

    def env(self, principal: Optional[str] = None) -> Dict[str, str]:
        """Environment variables that point an unmodified program (boto3, simpleflow, the
        aws CLI v2.13+) at this server as `principal`."""
        _, akid, secret = self.keys(principal)
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_SWF": self.endpoint,
            "AWS_ENDPOINT_URL_STS": self.endpoint,
            "AWS_ACCESS_KEY_ID": akid,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str = "swf", principal: Optional[str] = None, **kwargs: Any):
        """A boto3 client of `service` (`swf`, `sts`) signed as `principal`."""
        import boto3  # optional dependency: pip install swf-iam[boto3]

        _, akid, secret = self.keys(principal)
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=akid,
            aws_secret_access_key=secret,
            **kwargs,
        )

    def log_size(self) -> int:
        """The decision log's size now (where a test's decisions begin)."""
        try:
            return os.path.getsize(self.decision_log)
        except OSError:
            return 0

    def decisions(self, since: int = 0) -> List[Dict[str, Any]]:
        """The decision-log entries from byte `since` on, as dicts: principal, operation,
        action, resource, decision (`allowed`, `explicitDeny`, `implicitDeny`, or
        `refused`), the deciding statement and AWS's message."""
        out: List[Dict[str, Any]] = []
        try:
            with open(self.decision_log, encoding="utf-8") as f:
                f.seek(since)
                for line in f:
                    line = line.strip()
                    if line:
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            continue
        except OSError:
            pass
        return out
