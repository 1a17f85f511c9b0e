"""Suite-wide settings: a run that executes no test fails."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.pg"]  # the PostgreSQL fixtures (pg_server, pg_url, ...), for every test module


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller, which sees every result, decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    passed = len(reporter.stats.get("passed", []))
    if passed == 0:
        # Everything skipped or deselected is not a green run: say so and fail (exit 5).
        reporter.write_line("no test passed: every test was skipped or deselected", red=True)
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
