"""Statistics documents (docs/formats.md, "Statistics document") as nested mappings with
attribute access, and their differences: `after - before` subtracts every counter.

Lists keyed by something become mappings: ports by port number, rules and partitions by name,
so `delta.rules["etcd-peers"].forwarded` and `delta.ports[0].rx` work. Percentile summaries
(`delay_ns`, `lateness_ns`) are not counters: a delta keeps the later value."""

NOT_COUNTERS = {"delay_ns", "lateness_ns", "seed", "trace", "device_name", "port", "side",
                "name", "impairment", "mode", "connections", "in_force"}


class Counts(dict):
    """A dict whose keys are also attributes (d.rules, d.dropped.loss)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __sub__(self, before):
        return _difference(self, before)


def _wrap(value):
    if isinstance(value, dict):
        return Counts({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _keyed(items, key):
    return Counts({item[key]: _wrap(item) for item in items or []})


def _difference(after, before):
    out = Counts()
    for key, value in after.items():
        earlier = before.get(key) if isinstance(before, dict) else None
        if key in NOT_COUNTERS:
            out[key] = value
        elif isinstance(value, bool):
            out[key] = value
        elif isinstance(value, (int, float)):
            out[key] = value - (earlier if isinstance(earlier, (int, float)) else 0)
        elif isinstance(value, dict):
            out[key] = _difference(value, earlier if isinstance(earlier, dict) else {})
        else:
            out[key] = value
    return out


class Stats(Counts):
    """One statistics document; .raw is the document as the box sent it."""

    def __init__(self, document):
        super().__init__(_wrap(document))
        self["ports"] = _keyed(document.get("ports"), "port")
        self["rules"] = _keyed(document.get("rules"), "name")
        self["partitions"] = _keyed(document.get("partitions"), "name")
        self.__dict__["raw"] = document

    def __getattr__(self, key):
        if key == "raw":
            return self.__dict__["raw"]
        return Counts.__getattr__(self, key)
