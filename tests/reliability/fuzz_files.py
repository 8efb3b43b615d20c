"""Fuzz classes of bad bench files and of interrupts, shared by the tests and benchmarks/reliability.py.

Bench files: a misspelt key at any level, a limit widened past its ceiling, random bytes, a valid file
cut short. Each is loaded as ``labctl`` would; a refusal must be one ``LabctlError`` line naming the
key (never another exception: that would be a traceback for the user); an accepted file must keep
every limit within the declared modules' ceilings. Interrupts: a stop requested at a random bus
message of a procedure on simulated instruments must end it within one operation with every output
off and every relay open, and ``--resume`` must give the uninterrupted data.
"""

from __future__ import annotations

import os

import numpy as np
import yaml
from hypothesis import strategies as st

from labctl.benchfile import ceilings, load_bench
from labctl.errors import LabctlError
from labctl.specs import SafetyLimits

from .fuzz import bench_tree, dump_yaml

CLASSES = ("misspelt key", "widened limit", "binary", "truncated")
"""The classes of bad bench file generated."""


def _slip(draw, key: str) -> str:
    kind = draw(st.sampled_from(["drop", "swap", "double", "case", "plural"]))
    i = draw(st.integers(0, max(len(key) - 2, 0)))
    out = {"drop": key[:i] + key[i + 1:], "swap": key[:i] + key[i + 1:i + 2] + key[i] + key[i + 2:],
           "double": key[:i] + key[i] + key[i:], "case": key.capitalize() if key != key.capitalize() else key.upper(),
           "plural": key[:-1] if key.endswith("s") else key + "s"}[kind]
    return out if out != key and out else key + "x"


def _key_paths(tree, where=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            if where[-1:] != ("switches",):  # mainframe names are the user's own
                yield where + (key,)
            yield from _key_paths(value, where + (key,))


@st.composite
def bad_bench_files(draw, tree: dict):
    """(class, file bytes, what was changed) of one generated bad bench file."""
    kind = draw(st.sampled_from(CLASSES))
    if kind == "binary":
        return kind, os.urandom(draw(st.integers(1, 4096))), ()
    text = dump_yaml(tree)
    if kind == "truncated":
        return kind, text[:draw(st.integers(0, len(text) - 1))].encode(), ()
    data = yaml.safe_load(text)
    if kind == "misspelt key":
        path = draw(st.sampled_from(list(_key_paths(data))))
        node = data
        for part in path[:-1]:
            node = node[part]
        slip = _slip(draw, str(path[-1]))
        if slip in node:
            slip = slip + "x"
        node[slip] = node.pop(path[-1])
        return kind, dump_yaml(data).encode(), path[:-1] + (slip,)
    name = draw(st.sampled_from(sorted(WIDENABLE)))
    data["limits"] = {name: WIDENABLE[name] * draw(st.sampled_from([0.1, 0.5, 0.99])) if name == "min_width_s"
                      else WIDENABLE[name] * draw(st.sampled_from([1.01, 2.0, 100.0]))}
    return kind, dump_yaml(data).encode(), ("limits", name)


WIDENABLE = {"compliance_a": 0.1, "max_read_v": 100.0, "max_gate_v": 100.0, "max_drain_v": 100.0,
             "max_write_v": 40.0, "min_width_s": 100e-9, "spgu_max_level_v": 20.0, "adc_max_integration_s": 20e-3}
"""Ceilings of the sim-instruments bench (HRSMUs, one SPGU, no direct path) that a file may not pass."""


def bench_file_case(tmp_dir, kind: str, content: bytes, path: tuple) -> str:
    """Load one generated file: ``rejected`` (one line naming the key), ``accepted`` (within ceilings);
    ``AssertionError`` for a refusal that does not name the key, ``TracebackError`` for any other exception."""
    target = tmp_dir / "bench.yaml"
    target.write_bytes(content)
    try:
        config = load_bench(target)
    except LabctlError as exc:
        message = str(exc)
        assert "\n" not in message, f"{kind}: error of several lines: {message!r}"
        if path:
            assert str(path[-1]) in message, f"{kind} {path}: error does not name the key: {message}"
        return "rejected"
    except Exception as exc:  # what the user would see as a traceback
        raise TracebackError(f"{kind} {path}: {type(exc).__name__}: {exc}") from exc
    assert kind not in ("misspelt key", "widened limit") or not path, f"{kind} {path}: accepted"
    for name, (bound, _) in ceilings(config.modules, config.probecard, config.direct_path).items():
        value = getattr(config.limits, name)
        assert (value >= bound) if name == "min_width_s" else (value <= bound), f"{name}={value} past {bound}"
    for name in ("spgu_max_level_v", "adc_max_integration_s"):
        assert getattr(config.limits, name) <= getattr(SafetyLimits(), name)
    return "accepted"


class TracebackError(Exception):
    """An exception other than ``LabctlError`` escaped: the user would see a traceback."""


def interrupt_case(tmp_dir, name: str, params: dict, clean, total: int, at: int, model: str = "garg-hzo-2us",
                   seed: int = 3) -> dict:
    """Stop procedure ``name`` at bus message ``at`` on sim-instruments, then resume: what happened."""
    import pandas as pd

    from labctl.backends import open_backend
    from labctl.visalog import audit, read_log
    from procedures import run_procedure

    out, log = tmp_dir / f"{name}-{at}", tmp_dir / f"{name}-{at}.log"
    asked = {}
    with open_backend("sim-instruments", model=model, seed=seed, visa_log=log) as backend:
        def stop():
            if "at" not in asked and backend.stats.messages >= at:
                asked["at"] = backend.stats.messages
            return "at" in asked
        part, _ = run_procedure(name, backend, out, should_stop=stop, **params)
        after = backend.stats.messages - at if "at" in asked else 0  # sent after the request, the operation in flight
    entries = read_log(log)
    hot, on = audit(entries)
    routes = [m for _, i, k, m in entries if i == "switch" and k == "write" and m.startswith((":ROUT:OPEN", ":ROUT:CLOS"))]
    safe = not hot and not on and (not routes or routes[-1] == ":ROUT:OPEN:CARD ALL")
    stopped = part.attrs["status"] == "aborted"
    equal = True
    if stopped:
        with open_backend("sim-instruments", model=model, seed=seed) as backend:
            resumed, _ = run_procedure(name, backend, out, resume=True)
        equal = resumed.shape == clean.shape and bool(np.all(pd.DataFrame.equals(resumed, clean)))
    return {"procedure": name, "at": at, "stopped": stopped, "after": after, "safe": safe, "unsafe": len(hot),
            "resume_equal": equal}
