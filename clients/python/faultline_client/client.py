"""A client of the faultline HTTP API (docs/formats.md, "HTTP API").

Every call goes through the generic route POST /v1/request with the control-socket request
object, so answers and errors are exactly the socket's; only the box's clock is read from
GET /v1/time. Standard library only (urllib.request, ssl, json).
"""

import contextlib
import datetime
import json
import os
import ssl
import time
import urllib.error
import urllib.request

from faultline_client.stats import Counts, Stats


class FaultlineError(Exception):
    """A request the box refused or could not carry out.

    code: the control socket's error code (bad-request, invalid-profile, invalid-trace, busy,
    unsupported, failed, unauthorized, too-large, ...; "unreachable" when no answer came).
    status: the HTTP status (0 when there was no HTTP answer)."""

    def __init__(self, code, message, status=0):
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status


def _read_source(source, what):
    """(text, name, directory) of a file path or of YAML text given directly."""
    if "\n" not in source and os.path.isfile(source):
        with open(source, encoding="utf-8") as f:
            text = f.read()
        return text, source, os.path.dirname(os.path.abspath(source))
    if "\n" not in source and source.endswith((".yaml", ".yml")):
        raise FileNotFoundError(f"{what} file {source!r} does not exist")
    return source, None, None


def format_at(at):
    """The "at" of trace-start: a datetime (wall clock, RFC 3339 in UTC with nanoseconds
    truncated to microseconds), a timedelta or number of seconds from now ("+DUR"), or a string
    as the socket takes it ("+2s", "2026-12-01T12:00:00.000Z")."""
    if at is None or isinstance(at, str):
        return at
    if isinstance(at, datetime.datetime):
        if at.tzinfo is None:
            raise ValueError("at: a datetime needs a time zone (datetime.timezone.utc)")
        utc = at.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(at, datetime.timedelta):
        at = at.total_seconds()
    if isinstance(at, (int, float)):
        if at < 0:
            raise ValueError("at: must not be in the past")
        return f"+{int(round(at * 1e9))}ns"
    raise TypeError(f"at: expected a datetime, timedelta, seconds or string, not {type(at)}")


class Box:
    """One faultline box: Box("http://127.0.0.1:8080", token_file="/etc/faultline/token")."""

    def __init__(self, url, token=None, token_file=None, timeout=15.0, cafile=None,
                 verify=True):
        if token is not None and token_file is not None:
            raise ValueError("give token or token_file, not both")
        self.token_file = token_file
        if token_file is not None:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"box address {url!r}: expected http://HOST:PORT or https://HOST:PORT")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._token = token
        self._context = None
        if self.url.startswith("https://"):
            self._context = ssl.create_default_context(cafile=cafile)
            if not verify:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE

    def __repr__(self):
        return f"Box({self.url!r})"

    # -- transport ----------------------------------------------------------------------------

    def _http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token is not None:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout,
                                        context=self._context) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            raise FaultlineError("unreachable", f"{self.url}: {getattr(e, 'reason', e)}") from e
        try:
            answer = json.loads(raw)
        except ValueError:
            raise FaultlineError("bad-answer", f"{self.url}{path}: not JSON: {raw[:200]!r}",
                                 status) from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            code = answer.get("code", "failed") if isinstance(answer, dict) else "bad-answer"
            error = answer.get("error", str(answer)) if isinstance(answer, dict) else str(answer)
            raise FaultlineError(code, error, status)
        return answer

    def request(self, command, **fields):
        """Any control-socket request: box.request("ping"); its answer as a dict."""
        body = {"command": command}
        body.update({k: v for k, v in fields.items() if v is not None})
        return self._http("POST", "/v1/request", body)

    # -- the requests ---------------------------------------------------------------------------

    def ping(self):
        return self.request("ping")

    def show(self):
        """The show document (faultline show --json): "yaml", "profile", "links", "trace"..."""
        return self.request("show")["show"]

    def apply(self, profile, name=None):
        """Applies a profile: a file path, or YAML text. Returns the state after."""
        text, file_name, directory = _read_source(profile, "profile")
        return self.request("apply", profile=text, name=name or file_name, directory=directory)

    def heal(self, what="partitions"):
        return self.request("heal", what=what)

    def stats(self):
        """The statistics document as Stats (subtract two for a delta)."""
        return Stats(self.request("stats", format="json")["stats"])

    def reset_stats(self):
        return self.request("stats", reset=True)

    def trace_start(self, trace, speed=None, at=None, name=None):
        """Starts a trace (a file path or YAML text); at: see format_at."""
        text, file_name, directory = _read_source(trace, "trace")
        return self.request("trace-start", trace=text, name=name or file_name,
                            directory=directory, speed=speed, at=format_at(at))["trace"]

    def trace_stop(self, keep=False):
        return self.request("trace-stop", keep=keep)

    def trace_status(self):
        """The statistics document's trace section (None before any trace)."""
        return self.request("trace-status")["trace"]

    def time(self):
        """The box's wall clock in ns since the epoch (GET /v1/time)."""
        return int(self._http("GET", "/v1/time")["unix_ns"])

    # -- helpers for tests --------------------------------------------------------------------

    def wait_trace(self, timeout=60.0, poll=0.05):
        """Waits until the trace is no longer running; returns its status. TimeoutError after
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.trace_status()
            if status is None or status.get("state") != "running":
                return status
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.url}: trace {status.get('name')!r} still running "
                                   f"after {timeout}s ({status.get('steps_applied')} steps applied)")
            time.sleep(poll)

    @contextlib.contextmanager
    def applied(self, profile, name=None):
        """with box.applied("split-brain.yaml"): ... -- the profile shown before comes back
        when the block ends, also on an exception."""
        before = self.show()["yaml"]
        self.apply(profile, name=name)
        try:
            yield self
        finally:
            self.request("apply", profile=before, name="profile before applied()")

    @contextlib.contextmanager
    def partition(self, name=None, **spec):
        """with box.partition(between=["rack-a", "rack-b"], mode="drop"): ... -- the running
        profile plus this partition entry (docs/formats.md, Partitions), then the profile shown
        before. The profile is sent as JSON, which YAML reads as flow style."""
        shown = self.show()
        profile = dict(shown["profile"])
        entry = dict(spec)
        if name is not None:
            entry["name"] = name
        profile["partitions"] = list(profile.get("partitions") or []) + [entry]
        self.request("apply", profile=json.dumps(profile), name="partition()")
        try:
            yield self
        finally:
            self.request("apply", profile=shown["yaml"], name="profile before partition()")

    @contextlib.contextmanager
    def stats_delta(self):
        """with box.stats_delta() as d: ...; then d.rules["r"].forwarded: what the block
        counted."""
        before = self.stats()
        delta = Counts()
        try:
            yield delta
        finally:
            delta.update(self.stats() - before)
