"""pytest plugin (entry point pytest11 "faultline"): the `faultline_box` fixture.

The box comes from --faultline-box URL (else $FAULTLINE_BOX) and its token from
--faultline-token-file FILE (else $FAULTLINE_TOKEN_FILE). Without a box, tests that use the
fixture are skipped with the reason."""

import os

import pytest

from faultline_client.client import Box


def pytest_addoption(parser):
    group = parser.getgroup("faultline")
    group.addoption("--faultline-box", default=None, metavar="URL",
                    help="faultline box to drive, http(s)://HOST:PORT (default $FAULTLINE_BOX)")
    group.addoption("--faultline-token-file", default=None, metavar="FILE",
                    help="file holding the box's API token (default $FAULTLINE_TOKEN_FILE)")


@pytest.fixture(scope="session")
def faultline_box(request):
    url = request.config.getoption("--faultline-box") or os.environ.get("FAULTLINE_BOX")
    if not url:
        pytest.skip("no faultline box: give --faultline-box URL or set FAULTLINE_BOX")
    token_file = (request.config.getoption("--faultline-token-file")
                  or os.environ.get("FAULTLINE_TOKEN_FILE") or None)
    return Box(url, token_file=token_file)
