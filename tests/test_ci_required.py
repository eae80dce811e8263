import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIPPED = """
import pytest

@pytest.mark.required_in_ci
@pytest.mark.skipif(True, reason="needs a browser")
def test_needs_a_browser():
    pass

@pytest.mark.skipif(True, reason="optional")
def test_optional():
    pass
"""


def run(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SKIPPED)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **({"CI": "true"} if ci else {})}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.ci_required", "-p", "no:cacheprovider",
                           str(tmp_path / "test_sample.py")], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_a_required_test_skipped_in_ci_fails(tmp_path):
    result = run(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "required in CI but skipped: Skipped: needs a browser" in result.stdout
    assert "1 skipped, 1 error" in result.stdout  # a skip at set-up becomes an error there


def test_outside_ci_it_skips_saying_why(tmp_path):
    result = run(tmp_path, ci=False)
    assert result.returncode == 0 and "2 skipped" in result.stdout
