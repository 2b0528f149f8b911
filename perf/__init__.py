"""Tools that measure the dashboard: the benchmark, its naive baseline and the load test.

Not part of the installed package (``pyproject.toml`` ships ``dashboard`` only): run them
from a source checkout, e.g. ``python -m perf.bench`` or ``python -m perf.loadtest``. The
tests borrow the harness (servers on 127.0.0.1, the HTTP client, the page's request bodies).
"""
