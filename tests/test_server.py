"""The server under hostile or broken input: it answers in one line, with the right status,
and never dies of its store (issue 12, items 3–7).

Most tests use the session's live server (werkzeug) or its Flask test client; the one
about an unreadable generation runs gunicorn as the Procfile does, because what broke
was gunicorn's worker boot.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from dashboard.bench import callback_body, child_pids, free_port, pages_body

ROOT = Path(__file__).resolve().parents[1]
DAY, OTHER = date(2024, 10, 31), date(2024, 2, 17)


@pytest.fixture
def client(live_server):
    return live_server.app.server.test_client()


@pytest.fixture(scope="module")
def deps(live_server):
    return live_server.app.server.test_client().get("/_dash-dependencies").get_json()


def _dep(deps, output_part: str) -> dict:
    return next(d for d in deps if output_part in d["output"] and not d.get("clientside_function"))


def blake(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


# --- 5. ETags are a hash of the content ------------------------------------------------------------

def test_etag_is_a_hash_of_the_bytes_and_follows_the_content(client, live_server):
    gz = {"Accept-Encoding": "gzip"}
    tags = {}
    for path in ("/data/meta.json", "/data/boundaries.json", "/data/settlements.json",
                 f"/data/day/{DAY}.json", f"/data/day/{OTHER}.json"):
        r = client.get(path, headers=gz)
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert r.headers["ETag"] == blake(r.data), path
        tags[path] = r.headers["ETag"]
        again = client.get(path, headers={**gz, "If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.headers["ETag"] == r.headers["ETag"]
        # Without gzip the JSON itself is sent, tagged with its own hash.
        plain = client.get(path)
        assert plain.headers["ETag"] == blake(plain.data) != r.headers["ETag"]
        assert json.loads(plain.data) == json.loads(gzip.decompress(r.data))
    assert len(set(tags.values())) == len(tags)
    # Same generation, different bytes (what a sync and a restart used to do under one tag):
    # the tag follows the bytes, and the old tag no longer gets a 304.
    api = live_server.app._frontline["api"]
    api.store()
    old = tags[f"/data/day/{DAY}.json"]
    saved = api._days.get(DAY)
    try:
        api._days[DAY] = gzip.compress(b'{"date": "2024-10-31", "changed": true}', mtime=0)
        r = client.get(f"/data/day/{DAY}.json", headers={**gz, "If-None-Match": old})
        assert r.status_code == 200 and r.headers["ETag"] == blake(r.data) != old
    finally:
        if saved is None:
            api._days.pop(DAY, None)
        else:
            api._days[DAY] = saved


def test_every_data_response_has_an_etag(client, live_server):
    store = live_server.app._frontline["holder"].get()
    h = store.layer_hashes(DAY)["occupied"]
    for path in (f"/data/geom/{h}.json", f"/data/change.json?from={OTHER}&to={DAY}",
                 f"/data/status/{store.settlement_ids[0]}.json?date={DAY}"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["ETag"] == blake(r.data), path
