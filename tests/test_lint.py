"""The lint gate is real: the project's ruff and mypy settings reject bad code.

``make test`` runs ``make lint`` first, so CI fails on a lint or type error. These
tests show the configuration in ``pyproject.toml`` catches what it claims to (a test
that could not fail would be no evidence), and that the Makefile wires it in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it comes with the test extras (make install-test)")
    return found


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with royalroad's own lint configuration."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    return tmp_path


def test_ruff_rejects_what_the_rule_sets_name(project):
    bad = project / "src" / "pkg" / "bad.py"
    bad.write_text(
        "import sys\n"
        "import os\n"  # isort: unsorted, pyflakes: unused
        "from typing import List\n"  # pyupgrade: List → list
        "\n\n"
        "def f(xs: List[int], ys: list[int]) -> bool:\n"
        "    pairs = zip(xs, ys)\n"  # bugbear: zip without strict
        "    if len(xs) > 0:\n"
        "        return True\n"
        "    else:\n"
        "        return False\n"  # simplify: return the condition
        "\n\n"
        "x = 1 # " + "long comment " * 10 + "\n"  # pycodestyle: too long
    )
    res = _run([_tool("ruff"), "check", "--no-cache", "--output-format", "concise", "src"], project)
    assert res.returncode == 1, res.stdout + res.stderr
    found = set(re.findall(r"\b([A-Z]+\d+)\b", res.stdout))
    for code in ("I001", "F401", "UP035", "B905", "SIM103", "E501"):
        assert code in found, (code, res.stdout)


def test_ruff_format_check_fails_on_unformatted_code(project):
    (project / "src" / "pkg" / "ugly.py").write_text("x = {  'a':1,'b' :2 }\n")
    res = _run([_tool("ruff"), "format", "--check", "--no-cache", "src"], project)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "ugly.py" in res.stdout


def test_mypy_checks_untyped_bodies_and_implicit_optional(project):
    (project / "src" / "pkg" / "types_.py").write_text(
        "def implicit(x: int = None) -> int:\n"  # no implicit Optional
        "    return 1\n"
        "\n\n"
        "def untyped():\n"  # an unannotated function's body is still checked
        "    return 'a' + 1\n"
    )
    res = _run([_tool("mypy"), "--no-incremental", "src/pkg/types_.py"], project)
    assert res.returncode == 1, res.stdout + res.stderr
    assert re.search(r"types_\.py:1: error: Incompatible default", res.stdout), res.stdout
    assert re.search(r"types_\.py:6: error: Unsupported operand types", res.stdout), res.stdout


def test_make_test_runs_lint_first():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint\b", makefile, re.M), "make test must depend on make lint"
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert lint is not None
    body = lint.group(1)
    assert "ruff check" in body and "ruff format --check" in body and "mypy" in body
