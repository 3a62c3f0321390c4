"""Sessions are made only once the visibility index's flush hooks are installed: a
session made before would write records the index never hears of."""

import subprocess
import sys

REFUSED = """
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
try:
    sessionmaker_for(make_async_engine("sqlite+aiosqlite:///:memory:"))
except RuntimeError as error:
    print(error)
else:
    print("made")
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_a_session_is_refused_before_the_hooks_are_installed() -> None:
    assert _run(REFUSED) == "flush hooks not installed: record_reach (import ocpo_coord.visibility)"


def test_importing_any_part_of_the_kernel_installs_them() -> None:
    assert _run("import ocpo_coord.visibility.rule\n" + REFUSED) == "made"
