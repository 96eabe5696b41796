"""The pytest plugin: the faultline_box fixture from --faultline-box / FAULTLINE_BOX, skipped with
its reason without one. Runs pytest on a small test file in a subprocess."""

import os
import subprocess
import sys

USES_FIXTURE = """\
def test_uses_the_box(faultline_box):
    assert faultline_box.ping()["ok"]
    with faultline_box.partition(isolate="rack-a", name="iso"):
        assert faultline_box.ping()["partition_names"] == ["iso"]
    assert faultline_box.ping()["partitions"] == 0
"""


def run_pytest(tmp_path, *args, env=None):
    (tmp_path / "test_inner.py").write_text(USES_FIXTURE)
    environment = dict(os.environ)
    environment.pop("FAULTLINE_BOX", None)
    environment.pop("FAULTLINE_TOKEN_FILE", None)
    environment["PYTHONPATH"] = os.path.join(os.path.dirname(__file__), "..")
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "faultline_client.pytest_plugin",
         "-p", "no:cacheprovider", str(tmp_path / "test_inner.py"), *args],
        capture_output=True, text=True, env=environment, timeout=120)


def test_fixture_from_the_command_line(local, tmp_path):
    result = run_pytest(tmp_path, "--faultline-box", local.url,
                        "--faultline-token-file", local.token_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_fixture_from_the_environment(local, tmp_path):
    result = run_pytest(tmp_path, env={"FAULTLINE_BOX": local.url,
                                       "FAULTLINE_TOKEN_FILE": local.token_file})
    assert result.returncode == 0, result.stdout + result.stderr


def test_skips_with_the_reason_without_a_box(tmp_path):
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "no faultline box: give --faultline-box URL or set FAULTLINE_BOX" in result.stdout


def test_wrong_token_fails_the_test(local, tmp_path):
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-the-token\n")
    result = run_pytest(tmp_path, "--faultline-box", local.url, "--faultline-token-file",
                        str(wrong))
    assert result.returncode == 1
    assert "unauthorized" in result.stdout
