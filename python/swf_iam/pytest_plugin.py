"""The pytest plugin of swf-iam (entry point `pytest11`): the `swf_iam` fixture.

One `swf-iam serve` is started per test session on a free loopback port, with a frozen
clock, and reset before each test. The configuration is `policies/swf-iam.json` under
the rootdir unless `--swf-iam-config PATH` or the ini option `swf_iam_config` names
another; one that swf-iam refuses fails the session with swf-iam's message.

    def test_worker_is_denied_on_billing(swf_iam):
        swf = swf_iam.client("swf", principal="arn:aws:iam::123456789012:role/heartbeat-worker")
        ...
        assert swf_iam.decisions()[-1]["decision"] == "implicitDeny"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from . import Server, ServerError


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("swf-iam")
    group.addoption(
        "--swf-iam-config",
        dest="swf_iam_config",
        default=None,
        help="swf-iam configuration for the swf_iam fixture (default: policies/swf-iam.json)",
    )
    group.addoption(
        "--swf-iam-poll-timeout",
        dest="swf_iam_poll_timeout",
        default=None,
        help="longest long poll of the swf_iam server, in seconds (default 2)",
    )
    parser.addini("swf_iam_config", "swf-iam configuration for the swf_iam fixture")
    parser.addini("swf_iam_poll_timeout", "longest long poll of the swf_iam server (seconds)")


def _config_path(config: pytest.Config) -> str:
    given = config.getoption("swf_iam_config") or config.getini("swf_iam_config")
    root = Path(str(config.rootpath))
    path = Path(given) if given else Path("policies/swf-iam.json")
    if not path.is_absolute():
        path = root / path
    return str(path)


class SwfIam:
    """What a test sees: the endpoint, clients and environments signed as the
    configuration's principals, the decisions made during the test, and the clock."""

    def __init__(self, server: Server):
        self._server = server
        self._since = server.log_size()
        self.endpoint = server.endpoint
        self.region = server.region
        self.clock = server.clock

    def client(self, service: str = "swf", principal: Optional[str] = None, **kwargs: Any):
        """A boto3 client of `service` (`swf`, `sts`) signed as `principal` (default: the
        configuration's first principal with a key)."""
        return self._server.client(service, principal, **kwargs)

    def env(self, principal: Optional[str] = None) -> Dict[str, str]:
        """Environment variables that point an unmodified program at the server as
        `principal`: merge them into `os.environ` for a subprocess."""
        return self._server.env(principal)

    def decisions(self) -> List[Dict[str, Any]]:
        """The decision-log entries since the test began (principal, operation, action,
        resource, decision, statement, reason)."""
        return self._server.decisions(self._since)

    def reset(self) -> None:
        """Clears the server's state now (it is also cleared before each test)."""
        self._server.reset()
        self._since = self._server.log_size()


@pytest.fixture(scope="session")
def swf_iam_server(pytestconfig: pytest.Config):
    """The session's `swf-iam serve` process (started once)."""
    poll = pytestconfig.getoption("swf_iam_poll_timeout") or pytestconfig.getini(
        "swf_iam_poll_timeout"
    ) or "2"
    path = _config_path(pytestconfig)
    if not os.path.isfile(path):
        pytest.exit(f"swf-iam: the configuration `{path}` does not exist", returncode=4)
    # Connections close after each answer, as moto's server does: forking workers
    # (simpleflow) would otherwise share one pooled connection.
    server = Server(path, poll_timeout=int(poll), extra=("--no-keep-alive",))
    try:
        server.start()
    except ServerError as e:
        pytest.exit(f"swf-iam serve refused to start: {e}", returncode=4)
    yield server
    server.stop()


@pytest.fixture
def swf_iam(swf_iam_server: Server) -> SwfIam:
    """A clean server for one test: reset first (what an earlier test registered is
    gone; the configuration's `register` is applied again)."""
    swf_iam_server.reset()
    return SwfIam(swf_iam_server)
