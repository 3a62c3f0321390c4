"""scripts/demo and scripts/test as a newcomer runs them, with stand-in interpreters that
record what they were asked to do (nothing is installed for real)."""

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for a virtualenv's python: it answers the version probes as the named
# version would, records every other call, and does nothing else.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "{log}"
case "$1" in
  -c) [ "{version}" = "3.12" ] && exit 0 || exit 1 ;;
  -VV) echo "Python {version}.0" ;;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin"; cp "{good}" "$3/bin/python"; cp "{tool}" "$3/bin/ocpo-coord"; cp "{tool}" "$3/bin/pytest"; fi ;;
esac
exit 0
"""
FAKE_TOOL = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "{log}"
[ "$1" = token ] && echo "a-token-for-$2"
exit 0
"""


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, Path]:
    log = tmp_path / "calls.log"
    log.touch()
    tool = _executable(tmp_path / "stand-ins" / "tool", FAKE_TOOL.format(log=log))
    good = tmp_path / "stand-ins" / "python-3.12"
    _executable(good, FAKE_PYTHON.format(log=log, version="3.12", good=good, tool=tool))
    old = _executable(
        tmp_path / "stand-ins" / "python-3.14",
        FAKE_PYTHON.format(log=log, version="3.14", good=good, tool=tool),
    )
    return {"log": log, "tool": tool, "good": good, "old": old, "venv": tmp_path / "venv"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script(name: str, stand_ins: dict[str, Path], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    # OCPO_CHROMIUM: scripts/test then leaves the system's packages alone.
    env.update(OCPO_VENV=str(stand_ins["venv"]), OCPO_PYTHON=str(stand_ins["good"]), OCPO_CHROMIUM="chromium")
    env.update(extra)
    return subprocess.run(
        [str(ROOT / "scripts" / name)], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def _calls(stand_ins: dict[str, Path]) -> str:
    text = stand_ins["log"].read_text()
    stand_ins["log"].write_text("")
    return text


def test_demo_on_a_taken_port_says_so_in_one_line_before_doing_anything(stand_ins: dict[str, Path]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = _script("demo", stand_ins, OCPO_PORT=str(port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"port {port} is already in use on 127.0.0.1: stop what uses it, "
        f"or choose another port, e.g. OCPO_PORT={port + 1} ./scripts/demo"
    )
    assert not stand_ins["venv"].exists()
    assert "token" not in result.stdout


def test_demo_installs_once_and_prints_a_coordinator_link(stand_ins: dict[str, Path]) -> None:
    port = str(_free_port())
    first = _script("demo", stand_ins, OCPO_PORT=port)
    assert first.returncode == 0, first.stderr
    calls = _calls(stand_ins)
    assert "-m pip install --quiet -e ." in calls
    assert "ocpo-coord migrate" in calls
    assert f"ocpo-coord serve --port {port}" in calls
    # The link signs in a user who sees the demo's story on the page, and says whose view it is.
    assert f"http://127.0.0.1:{port}/coord#token=a-token-for-kfor.j2" in first.stdout
    assert "kfor.j2" in first.stdout
    assert "KFOR" in first.stdout

    again = _script("demo", stand_ins, OCPO_PORT=port)
    assert again.returncode == 0, again.stderr
    calls = _calls(stand_ins)
    assert "pip install" not in calls
    assert "ocpo-coord serve" in calls

    # The test command needs the development extras: that is a change, installed once.
    _script("test", stand_ins)
    assert "-m pip install --quiet -e .[dev]" in _calls(stand_ins)
    _script("test", stand_ins)
    assert "pip install" not in _calls(stand_ins)
    # ... and a development install serves the demo too.
    _script("demo", stand_ins, OCPO_PORT=port)
    assert "pip install" not in _calls(stand_ins)


def test_a_virtualenv_on_an_unsupported_python_is_rebuilt(stand_ins: dict[str, Path]) -> None:
    venv = stand_ins["venv"]
    _executable(venv / "bin" / "python", stand_ins["old"].read_text())
    (venv / ".ocpo-installed").write_text("stale\n")
    result = _script("demo", stand_ins, OCPO_PORT=str(_free_port()))
    assert result.returncode == 0, result.stderr
    assert "built by an unsupported or missing Python; rebuilding it" in result.stderr
    calls = _calls(stand_ins)
    assert f"python -m venv {venv}" in calls
    assert "-m pip install --quiet -e ." in calls
    assert (venv / "bin" / "python").read_text() == stand_ins["good"].read_text()


def test_no_supported_python_is_said_plainly(stand_ins: dict[str, Path]) -> None:
    result = _script("demo", stand_ins, OCPO_PORT=str(_free_port()), OCPO_PYTHON=str(stand_ins["old"]))
    assert result.returncode == 1
    assert "no supported Python found (ocpo-coord needs Python 3.11, 3.12 or 3.13)" in result.stderr
    assert "OCPO_PYTHON" in result.stderr


def test_readme_and_pyproject_name_the_same_pythons() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.14"
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11, 3.12 or 3.13" in readme
    assert "3.11+" not in readme
    assert 'SUPPORTED="3.11, 3.12 or 3.13"' in (ROOT / "scripts" / "venv.sh").read_text()
    assert (3, 11) <= sys.version_info[:2] < (3, 14)


def test_readme_tour_writes_its_files_under_a_scratch_directory() -> None:
    readme = (ROOT / "README.md").read_text()
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/scratch/" in ignored
    # Paths the tour writes or reads on disk (a file name inside a JSON body is not one).
    on_disk = re.compile(
        r"(?:> |@|sha256sum |-o |--html |\s\./)(ledger\.pdf|copy\.pdf|report\.html|handover-package)"
    )
    assert on_disk.findall(readme) == []
    for written in ("ledger.pdf", "copy.pdf", "report.html", "handover-package"):
        assert f"scratch/{written}" in readme, written
    assert "OCPO_PORT" in readme
