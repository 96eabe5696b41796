"""Statistics deltas without a box: what `after - before` keeps, subtracts and re-keys."""

from faultline_client import Stats

BEFORE = {"ports": [{"port": 0, "side": "a", "rx": 4, "tx": 1}],
          "dropped": {"loss": 1, "partition": 0}, "seed": 7, "elapsed_ns": 40,
          "rules": [{"name": "r", "forwarded": 2, "dropped": {"loss": 1, "total": 1},
                     "delay_ns": {"count": 2, "p50": 9}}],
          "partitions": [{"name": "cut", "dropped": 5, "answered": 1, "in_force": True}]}
AFTER = {"ports": [{"port": 0, "side": "a", "rx": 10, "tx": 5}],
         "dropped": {"loss": 3, "partition": 2}, "seed": 7, "elapsed_ns": 100,
         "rules": [{"name": "r", "forwarded": 7, "dropped": {"loss": 2, "total": 2},
                    "delay_ns": {"count": 7, "p50": 3}},
                   {"name": "new", "forwarded": 4}],
         "partitions": [{"name": "cut", "dropped": 9, "answered": 1, "in_force": False}]}


def test_difference_subtracts_counters_by_name():
    delta = Stats(AFTER) - Stats(BEFORE)
    assert delta.ports[0].rx == 6 and delta.ports[0].side == "a"
    assert delta.dropped.loss == 2 and delta.dropped.partition == 2
    assert delta.rules["r"].forwarded == 5 and delta.rules["r"].dropped.total == 1
    assert delta.rules["new"].forwarded == 4          # a rule that appeared counts from 0
    assert delta.rules["r"].delay_ns == {"count": 7, "p50": 3}   # percentiles: the later value
    assert delta.partitions["cut"].dropped == 4 and delta.partitions["cut"].in_force is False
    assert delta.seed == 7 and delta.elapsed_ns == 60


def test_raw_document_is_kept():
    stats = Stats(AFTER)
    assert stats.raw is AFTER
    assert stats.rules["r"]["forwarded"] == stats.rules["r"].forwarded
