"""The README's examples run as written.

Every ```python block is executed. Every ```sh block is run by bash, in README order,
against one `rolegate serve` on a fresh demo database, with the variables that
`rolegate demo --env` prints (the README says to `eval` them first) and `curl` made
strict (`--fail-with-body`): an example that answers an error fails the test. Bash runs
with `set -u`, so an example using a variable that neither the demo prints nor the
README defines fails too. Blocks fenced as ```console or ```text are shown, not run
(the two `make` commands are what CI runs; outputs are examples).

The outcome an example states is checked. The convention: a one-line command whose
trailing comment says `expect` followed by backquoted items,

    .venv/bin/rolegate check -w $WS ann@example.com ... --record account:acme   # allowed: expect `exit 0`
    curl ... $BASE/v1/workspaces/$WS/explain -d '...'   # denied (N11): expect `"allowed":false` `N11`

is run with its output (stdout and stderr) captured and shown; `exit N` asserts its
exit status (0 when no `exit` item is given), every other item is a substring its
output must contain. Such a command's `curl` is not strict (the expectation says what
the answer is: `expect `401``). A comment that states an outcome (`allowed`, `denied`,
`exit N`, an HTTP status, `no changes`) without `expect` fails
`test_every_stated_outcome_is_checked`.
"""

from __future__ import annotations

import os
import re
import shlex
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
    if (bin_dir.parent / "pyvenv.cfg").exists():  # `.venv/bin/python` is the venv's, with its packages (the SDK example)
        for name in ("pyvenv.cfg", "lib"):
            (work / ".venv" / name).symlink_to(bin_dir.parent / name)
    (work / "src").symlink_to(ROOT / "src")
    (work / "examples").symlink_to(ROOT / "examples")
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
curl() {
  if [[ -n ${README_LENIENT:-} ]]; then command curl --silent --show-error "$@"
  else command curl --fail-with-body --silent --show-error "$@"; fi
}
readme_expect() {  # line, expected exit, actual exit, output, substrings...
  local line=$1 want=$2 got=$3 out=$4; shift 4
  printf '%s\\n' "$out"
  if [[ $got != "$want" ]]; then echo "README.md:$line: exit $got, the README says exit $want" >&2; exit 1; fi
  local part
  for part in "$@"; do
    if [[ $out != *"$part"* ]]; then echo "README.md:$line: the output lacks $part (the README says so)" >&2; exit 1; fi
  done
}
"""

EXPECT = re.compile(r"^(?P<command>.*?\S)\s+#(?P<comment>[^#]*\bexpect\s+`.*)$")
ITEM = re.compile(r"`([^`]+)`")
STATED = re.compile(r"#.*\b(allowed|denied|exit [0-9]+|[1-5][0-9][0-9]\b|no changes)")


def expectations(comment: str) -> tuple[int, list[str]]:
    """`exit N` and the substrings of an `expect` clause."""
    items = ITEM.findall(comment[comment.index("expect") :])
    status = [int(i.split()[1]) for i in items if re.fullmatch(r"exit [0-9]+", i)]
    return (status[0] if status else 0), [i for i in items if not re.fullmatch(r"exit [0-9]+", i)]


def checked(code: str, first_line: int) -> str:
    """The block with each `expect` line run through `readme_expect`."""
    out = []
    for offset, text in enumerate(code.splitlines()):
        found = EXPECT.match(text)
        if found is None:
            out.append(text)
            continue
        status, parts = expectations(found["comment"])
        line = first_line + 1 + offset
        out.append(
            f"set +e; readme_out=$(README_LENIENT=1; {found['command']} 2>&1); readme_rc=$?; set -e\n"
            f"readme_expect {line} {status} $readme_rc \"$readme_out\" {' '.join(shlex.quote(p) for p in parts)}"
        )
    return "\n".join(out) + "\n"


def _shell_blocks() -> list[tuple[int, str]]:
    return blocks("sh")


def test_the_readme_has_shell_examples() -> None:
    assert len(_shell_blocks()) >= 5
    assert sum(1 for _, code in _shell_blocks() for text in code.splitlines() if EXPECT.match(text)) >= 8


def test_every_stated_outcome_is_checked() -> None:
    unchecked = [
        f"README.md:{line + 1 + i}: {text.strip()}"
        for line, code in _shell_blocks()
        for i, text in enumerate(code.splitlines())
        if STATED.search(text) and not EXPECT.match(text)
    ]
    assert not unchecked, "state the outcome as `expect ...` (see this test's docstring):\n" + "\n".join(unchecked)


def test_an_expectation_is_checked() -> None:
    code = "echo hello   # expect `hello`\nfalse   # expect `exit 1`\necho no   # expect `yes`\n"
    script = PRELUDE + checked(code, 0)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "README.md:3: the output lacks yes" in done.stderr
    assert "hello" in done.stdout


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
        + checked(code, line).replace(DEFAULT_BASE, f"127.0.0.1:{env['README_PORT']}")
        + keep
    )
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README.md:{line} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
