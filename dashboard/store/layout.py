"""Where the store lives on disk and how it is replaced atomically.

::

    <data_dir>/
      current            -> symlink to the generation being served
      gen-<stamp>/       one complete, immutable store (manifest.json last)
      cache/             parsed upstream items of an unfinished sync (resumable)
      sync.lock          held while a sync runs

A sync writes a whole new generation beside the old one (unchanged part files are
hard-linked, not copied) and then swaps the ``current`` link with ``os.replace``, so
a reader sees either the old store or the new one, never a mix. A crash leaves at
most an orphaned ``gen-*.tmp`` folder, removed by the next sync.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import orjson

MANIFEST = "manifest.json"
#: 2: polygons kept as DeepState draws them (no clipping to a coastline), per-oblast zones
#: that add up to the total, map revisions apart from front-line change, "not occupied".
FORMAT_VERSION = 2
#: What a sync says when it rebuilds a store written in an older format.
REBUILD_REASON = ("The store was built by an older version (areas clipped to a coarse coastline): "
                  "rebuilding every day so the figures match DeepState's own.")


class StoreError(RuntimeError):
    """The store is missing, locked or unreadable; the message says what to do."""


def current_dir(data_dir: Path) -> Path | None:
    """The generation being served, or None when there is no store yet."""
    link = Path(data_dir) / "current"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    gen = (link.parent / target).resolve()
    return gen if (gen / MANIFEST).is_file() else None


def new_generation_dir(data_dir: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = Path(data_dir) / f"gen-{stamp}.tmp"
    path.mkdir(parents=True)
    return path


def publish(data_dir: Path, tmp_gen: Path, manifest: dict) -> Path:
    """Write the manifest last, fsync, rename the generation and swap ``current``."""
    write_bytes_atomic(tmp_gen / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    final = tmp_gen.with_name(tmp_gen.name[: -len(".tmp")])
    os.replace(tmp_gen, final)
    link_tmp = Path(data_dir) / f".current-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(final.name, link_tmp)
    os.replace(link_tmp, Path(data_dir) / "current")
    _fsync_dir(Path(data_dir))
    return final


def prune(data_dir: Path, keep: int = 2) -> None:
    """Remove unfinished generations and all but the newest ``keep`` finished ones."""
    data_dir = Path(data_dir)
    cur = current_dir(data_dir)
    for tmp in data_dir.glob("gen-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    gens = sorted(p for p in data_dir.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp"))
    for old in gens[:-keep]:
        if cur is None or old.resolve() != cur:
            shutil.rmtree(old, ignore_errors=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the store is read by the app, maybe as another user
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def sync_lock(data_dir: Path):
    """Hold an exclusive lock so two syncs never write the same store."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    fh = open(data_dir / "sync.lock", "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"another `frontline sync` is running on {data_dir}") from None
        yield
    finally:
        fh.close()


def geometry_index(part: Path) -> list[tuple[str, int]]:
    """(hash, row group) of every geometry in a ``geom-*.parquet`` part, read in one go."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part, memory_map=True)
    hashes = pf.read(columns=["hash"]).column("hash").to_pylist()
    out, start = [], 0
    for rg in range(pf.num_row_groups):
        n = pf.metadata.row_group(rg).num_rows
        out.extend((h, rg) for h in hashes[start:start + n])
        start += n
    return out
