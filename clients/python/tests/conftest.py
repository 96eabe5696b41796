"""Live boxes for the client's tests: `faultline run --api` on net_ring vdevs, started here from
$FAULTLINE_BIN (meson test sets it) and ended by PID."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from faultline_client.local import LocalBox, binary_from_environment  # noqa: E402

PROFILE = """\
version: 1
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24]
impairments:
  slow: {delay: {base: 1ms}}
  lossy: {loss: {probability: 1%}}
rules:
  - name: a-to-b
    match: {src: rack-a, dst: rack-b}
    impairment: slow
"""

OTHER = """\
version: 1
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24]
impairments:
  lossy: {loss: {probability: 1%}}
rules:
  - {name: first, match: {src: rack-a}, impairment: lossy}
  - {name: second, match: {dst: rack-a}, impairment: lossy}
partitions:
  - {from: rack-a, to: rack-b, name: one-way}
"""


def binary():
    return binary_from_environment() or pytest.skip(
        "FAULTLINE_BIN is not set (meson test sets it to build/faultline)")


@pytest.fixture(scope="session")
def profiles(tmp_path_factory):
    directory = tmp_path_factory.mktemp("profiles")
    (directory / "base.yaml").write_text(PROFILE)
    (directory / "other.yaml").write_text(OTHER)
    return directory


@pytest.fixture(scope="session")
def local(profiles):
    with LocalBox(binary(), profile=str(profiles / "base.yaml"), token="s3cret-token") as box:
        yield box


@pytest.fixture
def box(local, profiles):
    """The session's box, back on the base profile with no trace after each test."""
    yield local
    try:
        local.trace_stop()
    except Exception:
        pass
    local.apply(str(profiles / "base.yaml"))
