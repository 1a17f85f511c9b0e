"""The Containerfile and compose.yaml (issue 18, item 7) stay true to the code.

Always: compose.yaml parses, its services are the ones documented, and every ROLEGATE_
variable it (or the Containerfile) sets is one that `Settings.from_env` reads; the
Containerfile's CMD runs as written (each `rolegate` command, with uvicorn faked), and its
HEALTHCHECK asks a page the app serves without a login.

Where podman or buildah works, the image is built. Where it does not, the test is
skipped with the reason (no tool; the tool cannot run here; the base image cannot be
pulled, as on a machine that reaches no container registry).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from anyio.from_thread import start_blocking_portal
from typer.testing import CliRunner

import rolegate.config
from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
COMPOSE = ROOT / "compose.yaml"


def _settings_variables() -> set[str]:
    """The variables `Settings.from_env` reads, from its source."""
    source = Path(rolegate.config.__file__).read_text()
    return set(re.findall(r'os\.environ\.get\("(ROLEGATE_\w+)"', source))


def _instructions() -> dict[str, list[str]]:
    """Containerfile instructions by keyword, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text())
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.setdefault(keyword.upper(), []).append(rest.strip())
    return found


def test_compose_parses_and_sets_only_variables_that_settings_reads() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "rolegate", "redis"}
    assert services["postgres"]["image"].endswith("postgres:15")
    assert services["redis"]["profiles"] == ["redis"]  # optional: only with --profile redis
    assert "profiles" not in services["rolegate"]
    assert "profiles" not in services["postgres"]
    assert services["rolegate"]["build"]["dockerfile"] == "Containerfile"
    environment: dict[str, str] = services["rolegate"]["environment"]
    rolegate_vars = {name for name in environment if name.startswith("ROLEGATE_")}
    assert {"ROLEGATE_DATABASE_URL", "ROLEGATE_SECRET_KEY", "ROLEGATE_REDIS_URL"} <= rolegate_vars
    assert rolegate_vars <= _settings_variables(), rolegate_vars - _settings_variables()
    assert set(environment) - rolegate_vars == {"WORKERS"}  # the Containerfile's CMD reads it
    assert environment["ROLEGATE_DATABASE_URL"].startswith("postgresql://rolegate:rolegate@postgres:5432/")
    assert ":?" in environment["ROLEGATE_SECRET_KEY"]  # compose refuses to start without one: logins across workers


def test_the_containerfile_runs_as_a_user_sets_only_settings_variables_and_its_commands_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instructions = _instructions()
    assert instructions["FROM"] == ["docker.io/library/python:3.11-slim"]
    assert instructions["USER"] == ["rolegate"]
    assert any("pip install ." in run for run in instructions["RUN"])
    env_names = {name for env in instructions["ENV"] for name in re.findall(r"(\w+)=", env)}
    assert {n for n in env_names if n.startswith("ROLEGATE_")} <= _settings_variables()

    # CMD ["sh", "-c", "rolegate db upgrade && exec rolegate serve ... --workers ${WORKERS}"]:
    # each command run as the shell would, through the CLI, on a fresh SQLite file.
    cmd = yaml.safe_load(instructions["CMD"][0])  # a JSON array is YAML
    assert cmd[:2] == ["sh", "-c"]
    commands = [shlex.split(part.replace("exec ", "", 1)) for part in cmd[2].replace("${WORKERS}", "2").split("&&")]
    assert [c[:2] for c in commands] == [["rolegate", "db"], ["rolegate", "serve"]]
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: served.append(options))
    monkeypatch.setenv("ROLEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'image.db'}")
    for name in ("ROLEGATE_SECRET_KEY", "ROLEGATE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # `serve --workers` sets them for its workers; restored after
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, command[1:])
        assert result.exit_code == 0, (command, result.output)
    assert [(o["host"], o["port"], o["workers"]) for o in served] == [("0.0.0.0", 8000, 2)]

    # HEALTHCHECK asks a page that answers 200 without a login.
    health = " ".join(instructions["HEALTHCHECK"])
    path = re.search(r"http://127\.0\.0\.1:8000(/[\w/-]*)", health)
    assert path is not None, health
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'image.db'}", listen=False, secret_key="image"))
    try:
        with start_blocking_portal() as portal:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
            assert portal.call(client.get, path.group(1)).status_code == 200
            portal.call(client.aclose)
    finally:
        rg.close()


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _builder() -> list[str]:
    """The build command of a working podman or buildah, else skip saying why."""
    reasons = []
    for tool, probe, build in (
        ("podman", ["podman", "info"], ["podman", "build", "--format", "docker"]),
        ("buildah", ["buildah", "info"], ["buildah", "bud", "--format", "docker"]),
    ):
        if shutil.which(tool) is None:
            reasons.append(f"{tool} is not installed")
            continue
        done = subprocess.run(probe, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            reasons.append(f"`{' '.join(probe)}` failed: {_last_line(done.stderr or done.stdout)}")
            continue
        return build
    pytest.skip("no container build tool works here: " + "; ".join(reasons) + " (apt-get install podman)")


@pytest.fixture
def image() -> Iterator[str]:
    tag = f"localhost/rolegate-test:{uuid.uuid4().hex[:8]}"
    yield tag
    for tool in ("podman", "buildah"):
        if shutil.which(tool):
            subprocess.run([tool, "rmi", "-f", tag], capture_output=True, timeout=120)


def test_the_image_builds(image: str) -> None:
    build = _builder()
    tool = build[0]
    base = _instructions()["FROM"][0]
    pull = subprocess.run([tool, "pull", base], capture_output=True, text=True, timeout=300)
    if pull.returncode != 0:
        pytest.skip(f"{tool} works here, but cannot pull the base image {base}: {_last_line(pull.stderr or pull.stdout)}")
    done = subprocess.run([*build, "-f", str(CONTAINERFILE), "-t", image, str(ROOT)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    if tool == "podman":
        ran = subprocess.run(["podman", "run", "--rm", image, "rolegate", "--help"], capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "serve" in ran.stdout
        user = subprocess.run(["podman", "run", "--rm", image, "id", "-u"], capture_output=True, text=True, timeout=300)
        assert user.stdout.strip() == "10001", user.stdout + user.stderr  # never root
