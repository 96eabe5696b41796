"""The Debian package (scripts/package.sh) unpacked into a temporary root with `dpkg-deb -x`:
its files are where docs/install.md says, its manual pages render and agree with
`faultline --help`, its systemd unit verifies, and its binary, run with no repository around
(another working directory, no FAULTLINE_* variables), validates every installed profile and
trace, finds them by name from its own path, and forwards on DPDK's virtual ports (plugins the
package depends on) within the unit's capability bounding set.

Environment: FAULTLINE_SOURCE_ROOT (the checkout), FAULTLINE_PACKAGE_OUT (where package.sh
builds), or FAULTLINE_PACKAGE_DEB (a .deb already built: the package is not built again).
"""
import glob
import gzip
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import pytest

SOURCE = os.environ.get("FAULTLINE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "../.."))
PMD_PACKAGES = ["librte-net-ring23", "librte-net-null23", "librte-net-pcap23",
                "librte-net-af-packet23", "librte-bus-vdev23", "librte-mempool-ring23"]


def clean_env():
    """The environment of a user's shell: no FAULTLINE_* variable, nothing from the build."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULTLINE_")}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    env["MANWIDTH"] = "100"
    return env


@pytest.fixture(scope="module")
def deb():
    given = os.environ.get("FAULTLINE_PACKAGE_DEB")
    if given:
        return given
    out = os.environ.get("FAULTLINE_PACKAGE_OUT", os.path.join(SOURCE, "build-package"))
    run = subprocess.run([os.path.join(SOURCE, "scripts/package.sh"), out],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.strip().splitlines()[-1].split("package: ", 1)[1]


@pytest.fixture(scope="module")
def root(deb):
    directory = tempfile.mkdtemp(prefix="faultline-package-")
    subprocess.run(["dpkg-deb", "-x", deb, directory], check=True)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture()
def elsewhere():
    """A working directory with nothing in it: not the checkout, not the package root."""
    directory = tempfile.mkdtemp(prefix="faultline-cwd-")
    yield directory
    shutil.rmtree(directory)


def faultline(root, cwd, *args, **kwargs):
    return subprocess.run([os.path.join(root, "usr/bin/faultline"), *args], cwd=cwd,
                          env=clean_env(), capture_output=True, text=True, check=False, **kwargs)


def test_files_are_where_meson_install_puts_them(root):
    assert os.access(os.path.join(root, "usr/bin/faultline"), os.X_OK)
    for page in ["usr/share/man/man1/faultline.1.gz", "usr/share/man/man5/faultline-profile.5.gz"]:
        assert os.path.isfile(os.path.join(root, page)), page
    assert os.path.isfile(os.path.join(root, "usr/lib/systemd/system/faultline@.service"))
    assert os.path.isfile(os.path.join(root, "usr/share/faultline/faultline.conf.example"))
    shipped = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SOURCE, "profiles/*")))
    installed = sorted(os.listdir(os.path.join(root, "usr/share/faultline/profiles")))
    assert installed == shipped


def test_depends_on_the_libraries_and_the_drivers_it_loads(deb):
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True,
                             check=True).stdout
    # ${shlibs:Depends}: what the binary links (DPDK's EAL, libpcap, libyaml).
    for library in ["librte-eal23", "libpcap0.8", "libyaml-0-2"]:
        assert library in depends, depends
    for driver in PMD_PACKAGES:
        assert driver in depends, depends


def render(page):
    """The manual page as `man -l` shows it; groff's warnings (bad macros, tables) fail."""
    run = subprocess.run(["man", "--warnings", "-l", page], env=clean_env(), capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return run.stdout


def test_manual_pages_render(root):
    command = render(os.path.join(root, "usr/share/man/man1/faultline.1.gz"))
    for section in ["SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES", "EXAMPLES"]:
        assert section in command
    profile = render(os.path.join(root, "usr/share/man/man5/faultline-profile.5.gz"))
    for section in ["PROFILE (YAML)", "TRACE FILE (YAML)", "LIMITS", "partitions:"]:
        assert section in profile


def subcommands(help_text):
    """The subcommand names listed under `Subcommands:` of a CLI11 --help."""
    names, listing = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            listing = True
        elif listing and re.match(r"^  \S", line):
            names.append(line.split()[0])
    return names


def options(help_text):
    """The long options listed under `Options:` of a CLI11 --help (not the examples above it)."""
    section = help_text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  (?:-\w,)?(--[a-z][a-z-]*)", section, re.M)


def man_sections(page):
    """Each .SS section of the roff source, by name."""
    with gzip.open(page, "rt") as f:
        text = f.read()
    return dict(re.findall(r"^\.SS (\S+)\n(.*?)(?=^\.S[SH] )", text, re.M | re.S))


def test_manual_page_lists_every_command_and_option_of_help(root, elsewhere):
    sections = man_sections(os.path.join(root, "usr/share/man/man1/faultline.1.gz"))
    top = faultline(root, elsewhere, "--help")
    assert top.returncode == 0
    commands = subcommands(top.stdout)
    assert "run" in commands and "validate" in commands
    checked = 0
    for command in commands:
        assert command in sections, f"faultline(1) has no section for `{command}`"
        usage = faultline(root, elsewhere, command, "--help").stdout
        paths = [[command]] + [[command, sub] for sub in subcommands(usage)]
        for path in paths:
            text = faultline(root, elsewhere, *path, "--help").stdout
            for option in options(text):
                if option == "--help":
                    continue
                roff = option.replace("-", "\\-")
                assert roff in sections[command], \
                    f"faultline {' '.join(path)} {option} is not in faultline(1)"
                checked += 1
    assert checked > 30  # every subcommand's options were seen


def test_version_and_help_without_the_repository(root, elsewhere):
    version = faultline(root, elsewhere, "--version")
    assert version.returncode == 0 and re.fullmatch(r"faultline \d+\.\d+\.\d+\n", version.stdout)
    helped = faultline(root, elsewhere, "--help")
    assert helped.returncode == 0 and "validate" in helped.stdout


def installed_configuration(root):
    return sorted(glob.glob(os.path.join(root, "usr/share/faultline/profiles/*.yaml")))


def test_validate_every_installed_profile_and_trace(root, elsewhere):
    files = installed_configuration(root)
    assert len(files) > 10
    run = faultline(root, elsewhere, "validate", *files)
    assert run.returncode == 0, run.stdout + run.stderr
    for path in files:
        assert f"{path}: ok" in run.stdout, path


def test_installed_profiles_are_found_by_name_from_the_binary_path(root, elsewhere):
    # Relative names that are no file in the working directory: the binary looks beside itself
    # (<root>/usr/bin/../share/faultline), which only /proc/self/exe can tell it.
    run = faultline(root, elsewhere, "validate", "profiles/flaky-link.yaml",
                    "leader-isolation.trace.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    data = os.path.join(os.path.realpath(root), "usr/share/faultline")
    assert f"{data}/profiles/flaky-link.yaml: ok" in run.stdout, run.stdout
    missing = faultline(root, elsewhere, "validate", "profiles/no-such-profile.yaml")
    assert missing.returncode == 2
    assert "profiles/no-such-profile.yaml" in missing.stdout + missing.stderr
    assert data not in missing.stdout + missing.stderr  # named as the user wrote it
    # A file in the working directory wins over an installed one of the same name.
    with open(os.path.join(elsewhere, "flaky-link.yaml"), "w") as f:
        f.write("version: 1\nrules: [\n")
    local = faultline(root, elsewhere, "validate", "flaky-link.yaml")
    assert local.returncode == 2 and "flaky-link.yaml:" in local.stdout + local.stderr


def unit_setting(root, key):
    with open(os.path.join(root, "usr/lib/systemd/system/faultline@.service")) as f:
        values = [line.split("=", 1)[1].strip() for line in f if line.startswith(key + "=")]
    assert values, key
    return values[-1]


def test_systemd_unit_is_hardened_and_verifies(root):
    for key, value in [("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                       ("Restart", "on-failure"), ("EnvironmentFile", "/etc/faultline/%i.conf")]:
        assert unit_setting(root, key) == value, key
    assert "faultline/%i" in unit_setting(root, "RuntimeDirectory")
    assert unit_setting(root, "ExecStart").startswith("/usr/bin/faultline run ")
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # verify checks the unit's syntax and that ExecStart's binary exists: it is looked up in the
    # unpacked root through --root... which systemd 252 does not accept for verify, so the
    # binary's path is rewritten into the root in a copy.
    unit_dir = tempfile.mkdtemp(prefix="faultline-unit-")
    try:
        with open(os.path.join(root, "usr/lib/systemd/system/faultline@.service")) as f:
            text = f.read().replace("/usr/bin/faultline", os.path.join(root, "usr/bin/faultline"))
        unit = os.path.join(unit_dir, "faultline@test.service")
        with open(unit, "w") as f:
            f.write(text)
        run = subprocess.run(["systemd-analyze", "verify", "--man=no", unit],
                             capture_output=True, text=True, check=False)
        problems = [line for line in (run.stdout + run.stderr).splitlines()
                    if "faultline" in line and "ConditionPathExists" not in line]
        assert run.returncode == 0 and not problems, run.stdout + run.stderr
    finally:
        shutil.rmtree(unit_dir)


def test_forwards_within_the_units_capabilities(root, elsewhere):
    """`faultline run` on two net_null ports (DPDK plugins from the packages Depends names), as
    the unit starts it: root with only the unit's bounding set, no new privileges."""
    caps = unit_setting(root, "CapabilityBoundingSet").split()
    bounding = "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    socket = os.path.join(elsewhere, "control.sock")
    prefix = f"faultline-package-{os.getpid()}"
    argv = ["setpriv", "--bounding-set", bounding, "--no-new-privs",
            os.path.join(root, "usr/bin/faultline"), "run", "--delay", "1ms",
            "--idle-sleep", "100us", "--control", socket, "--",
            "--no-huge", "--no-pci", "--no-shconf", "-m", "1024", "-l", "0",
            f"--file-prefix={prefix}", "--vdev=net_null0", "--vdev=net_null1"]
    process = subprocess.Popen(argv, cwd=elsewhere, env=clean_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = []
    # A run that never says it forwards is ended (the read below then sees end of file).
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        for line in process.stdout:  # until it forwards, or exits (the loop ends at EOF)
            output.append(line)
            if "faultline: forwarding" in line:
                break
        assert any("faultline: forwarding" in line for line in output), "".join(output)
        stats = faultline(root, elsewhere, "stats", "--json", "--control", socket)
        assert stats.returncode == 0 and '"ports"' in stats.stdout, stats.stderr
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
