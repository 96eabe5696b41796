"""faultline_client against a live `faultline run --api` (conftest.py): every call, errors, the
context managers' restore (also on an exception), statistics deltas, waiting for a trace."""

import datetime
import time

import pytest

from faultline_client import Box, FaultlineError, Stats

TRACE = """\
version: 1
name: two-steps
events:
  - {at: 0s, partition: {isolate: rack-a, name: iso}}
  - {at: 300ms, heal: partitions}
"""


def profile_of(box):
    return box.show()["profile"]


def test_ping_show_apply_heal(box, profiles):
    state = box.ping()
    assert state["ok"] and state["rules"] == 1 and state["trace"] == "none"
    shown = box.show()
    assert "a-to-b" in shown["yaml"] and shown["profile"]["rules"][0]["name"] == "a-to-b"
    state = box.apply(str(profiles / "other.yaml"))
    assert (state["rules"], state["partitions"]) == (2, 1)
    assert box.heal()["partitions"] == 0
    assert box.heal("impairments")["impairments"] == "healed"
    assert box.heal("all")["impairments"] == "healed"
    assert box.apply(str(profiles / "other.yaml"))["impairments"] == "active"
    # YAML text instead of a path.
    assert box.apply("version: 1\n")["rules"] == 0


def test_errors_carry_code_message_and_status(box, local):
    with pytest.raises(FaultlineError) as refused:
        box.apply("version: 1\nrules: 3\n")
    assert refused.value.code == "invalid-profile" and refused.value.status == 400
    assert ":2:" in refused.value.message
    with pytest.raises(FaultlineError) as bad:
        box.heal("everything")
    assert bad.value.code == "bad-request" and bad.value.status == 400
    with pytest.raises(FileNotFoundError):
        box.apply("no/such/profile.yaml")
    for wrong in (Box(local.url), Box(local.url, token="wrong")):
        with pytest.raises(FaultlineError) as denied:
            wrong.ping()
        assert denied.value.code == "unauthorized" and denied.value.status == 401
    with pytest.raises(FaultlineError) as unreachable:
        Box("http://127.0.0.1:1", timeout=2).ping()
    assert unreachable.value.code == "unreachable" and unreachable.value.status == 0


def test_stats_reset_and_deltas(box):
    before = box.stats()
    assert isinstance(before, Stats) and "a-to-b" in before.rules
    assert before.ports[0].side == "a" and before.ports[1].side == "b"
    assert before.raw["rules"][0]["name"] == "a-to-b"
    answer = box.reset_stats()
    assert answer["rules_reset"] == 1
    with box.stats_delta() as delta:
        pass
    assert delta.rules["a-to-b"].forwarded == 0
    assert delta.dropped.loss == 0
    assert box.stats().resets == before.resets + 1
    assert (box.stats() - before).rules["a-to-b"].matched >= 0


def test_applied_restores_the_profile_shown_before_even_on_exception(box, profiles):
    original = profile_of(box)
    with box.applied(str(profiles / "other.yaml")):
        assert [r["name"] for r in profile_of(box)["rules"]] == ["first", "second"]
    assert profile_of(box) == original
    with pytest.raises(RuntimeError, match="test failed inside"):
        with box.applied(str(profiles / "other.yaml")):
            assert box.ping()["partitions"] == 1
            raise RuntimeError("test failed inside")
    assert profile_of(box) == original
    assert box.ping()["partitions"] == 0


def test_partition_adds_to_the_running_profile_and_restores(box):
    original = profile_of(box)
    with pytest.raises(KeyError):
        with box.partition(between=["rack-a", "rack-b"], mode="icmp-unreachable", name="cut"):
            state = box.ping()
            assert state["partitions"] == 1 and state["partition_names"] == ["cut"]
            assert profile_of(box)["rules"] == original["rules"]
            raise KeyError("boom")
    assert profile_of(box) == original
    with pytest.raises(FaultlineError) as refused:
        with box.partition(between=["rack-a", "no-such-group"]):
            pass
    assert refused.value.code == "invalid-profile"
    assert profile_of(box) == original


def test_trace_start_status_wait_and_stop(box, tmp_path):
    path = tmp_path / "two.trace.yaml"
    path.write_text(TRACE)
    trace = box.trace_start(str(path), at=datetime.timedelta(milliseconds=200))
    assert trace["name"] == "two-steps" and trace["state"] == "running"
    done = box.wait_trace(timeout=30)
    assert done["state"] == "finished" and done["steps_applied"] >= 2
    assert box.trace_status()["state"] == "finished"
    assert box.ping()["partitions"] == 0
    # Slowed down (its last step 30 s after time zero) it is still running when stopped, however
    # long this thread waits for a CPU; an absolute time works too (10 s ahead: never passed by
    # the time the box reads it).
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10)
    box.trace_start(TRACE, speed=0.01, at=at)
    with pytest.raises(FaultlineError) as busy:
        box.apply("version: 1\n")
    assert busy.value.code == "busy" and busy.value.status == 409
    with pytest.raises(TimeoutError):
        box.wait_trace(timeout=0.2)
    stopped = box.trace_stop()
    assert stopped["restored"] is True
    assert box.trace_status()["state"] == "stopped"


def test_time_is_the_box_wall_clock(box):
    before = time.time_ns()
    box_ns = box.time()
    after = time.time_ns()
    # Same machine, same clock: the box read it between our two reads.
    assert before <= box_ns <= after
