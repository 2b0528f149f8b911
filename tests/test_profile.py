"""`python -m perf.profile` turns Chromium's trace, V8's profile and py-spy's stacks into shares.

The summaries are checked on small made-up inputs whose answer is known: a task counted once
however deep its events nest, a layout inside a layout counted once, self time given to the
function a sample landed in, a stack's function counted once in its inclusive share.
"""
from __future__ import annotations

from perf.profile import collapsed_summary, profile_summary, trace_summary

MAIN, OTHER = (1, 10), (1, 11)


def _meta(pid, tid, name):
    return {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}


def _x(name, ts, dur, where=MAIN):
    return {"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": where[0], "tid": where[1]}


def test_trace_summary_counts_main_thread_time_once():
    events = [
        _meta(*MAIN, "CrRendererMain"), _meta(*OTHER, "Compositor"),
        _x("RunTask", 0, 10_000), _x("RunTask", 2_000, 1_000),  # a nested task is not busy twice
        _x("Layout", 1_000, 4_000), _x("Layout", 2_000, 1_000),  # a layout inside a layout
        _x("Paint", 6_000, 2_000), _x("MinorGC", 8_000, 500),
        _x("RunTask", 20_000, 5_000),
        _x("RunTask", 0, 99_000, OTHER), _x("Paint", 0, 50_000, OTHER),  # another thread: not the page's
    ]
    got = trace_summary({"traceEvents": events})
    assert got == {"busy": 15.0, "layout": 4.0, "paint": 2.0, "gc": 0.5}


def test_profile_summary_gives_self_time_to_the_sampled_function():
    def node(i, fn, url="", line=0):
        return {"id": i, "callFrame": {"functionName": fn, "url": url, "lineNumber": line}}

    profile = {
        "nodes": [node(1, "(root)"), node(2, "(idle)"), node(3, "draw", "http://h/assets/map/2-draw.js?m=1", 9),
                  node(4, "", "http://h/_dash-component-suites/plotly/package_data/plotly.min.js", 0)],
        "samples": [2, 3, 3, 4, 3],
        "timeDeltas": [1000, 2000, 2000, 500, -5],  # a negative delta (clock skew) counts as none
    }
    got = profile_summary(profile)
    assert got["sampled_ms"] == 5.5
    assert dict(got["by_script"]) == {"(idle)": 1.0, "assets/map/2-draw.js": 4.0, "plotly.js": 0.5}
    assert got["by_function"][0] == ("draw (assets/map/2-draw.js:10)", 4.0)


def test_collapsed_summary_counts_a_recursive_function_once_per_stack():
    lines = [
        "process 1:main;sync (dashboard/store/sync.py:10);overlay (shapely/set_operations.py:5) 6",
        "process 2:worker;parse (dashboard/sources/deepstate.py:3);parse (dashboard/sources/deepstate.py:9) 3",
        "process 2:worker;idle (/usr/lib/python3.11/threading.py:1) 1",
        "garbage line",
    ]
    got = collapsed_summary(lines)
    assert got["samples"] == 10
    assert dict(got["self_pct"]) == {"overlay (shapely/set_operations.py)": 60.0,
                                     "parse (dashboard/sources/deepstate.py)": 30.0,
                                     "idle (/usr/lib/python3.11/threading.py)": 10.0}
    assert dict(got["inclusive_pct"])["parse (dashboard/sources/deepstate.py)"] == 30.0
    assert dict(got["inclusive_pct"])["sync (dashboard/store/sync.py)"] == 60.0
