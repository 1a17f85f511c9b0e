"""The README's examples run as written.

Every ```python block is executed. Every ```sh block is run by bash, in README order,
against one `rolegate serve` on a fresh demo database, with the variables that
`rolegate demo --env` prints (the README says to `eval` them first) and `curl` made
strict (`--fail-with-body`): an example that answers an error fails the test. Blocks
fenced as ```console or ```text are shown, not run (the two `make` commands are what CI
runs; outputs are examples).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_serve import _free_port, _wait_for

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DEFAULT_BASE = "127.0.0.1:8000"


def blocks(language: str) -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in FENCE.finditer(text) if m.group(1) == language]


def test_every_fenced_block_says_whether_it_runs() -> None:
    languages = {m.group(1) for m in FENCE.finditer(README.read_text())}
    assert languages <= {"python", "sh", "console", "text"}, languages


@pytest.mark.parametrize(("line", "code"), blocks("python"), ids=lambda v: f"line {v}" if isinstance(v, int) else "")
def test_python_example_runs(line: int, code: str) -> None:
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "readme_example"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the README's examples use it (apt-get install curl)")
    work = tmp_path_factory.mktemp("readme")
    # The examples call `.venv/bin/rolegate` and read `src/...` from the project's root.
    bin_dir = Path(sys.executable).parent
    (work / ".venv").mkdir()
    (work / ".venv" / "bin").symlink_to(bin_dir)
    (work / "src").symlink_to(ROOT / "src")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLEGATE_")}
    env.update(ROLEGATE_DATABASE_URL=f"sqlite:///{work / 'rolegate.db'}", ROLEGATE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    subprocess.run([bin_dir / "rolegate", "db", "upgrade"], cwd=work, env=env, check=True, capture_output=True)
    proc = subprocess.Popen([bin_dir / "rolegate", "serve", "--port", str(port)], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(port, proc)
        yield work, {**env, "README_PORT": str(port)}
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


PRELUDE = """\
set -euo pipefail
curl() { command curl --fail-with-body --silent --show-error "$@"; }
"""


def _shell_blocks() -> list[tuple[int, str]]:
    return blocks("sh")


def test_the_readme_has_shell_examples() -> None:
    assert len(_shell_blocks()) >= 5


@pytest.mark.parametrize(("line", "code"), _shell_blocks(), ids=lambda v: f"line {v}" if isinstance(v, int) else "")
def test_shell_example_runs(line: int, code: str, served: tuple[Path, dict[str, str]]) -> None:
    work, env = served
    # The variables earlier blocks set are kept for the next ones, as in one shell.
    state = work / "readme.vars"
    keep = f"""
for name in $(compgen -v); do
  grep -qx "$name" <<<"$shell_vars" || declare -p "$name"
done > {state}.new && mv {state}.new {state}
"""
    script = (
        'shell_vars="$(compgen -v)"\n'
        + (f"source {state}\n" if state.exists() else "")
        + PRELUDE
        + code.replace(DEFAULT_BASE, f"127.0.0.1:{env['README_PORT']}")
        + keep
    )
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README.md:{line} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
