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

The manifest lists every other file of its generation with its size and checksum
(``files``); :func:`verify` checks a generation against it, so a sync never builds on
(or hard-links) a damaged file and ``frontline doctor`` can say what is damaged.
"""
from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson

from . import served

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
    gen = current_target(data_dir)
    return gen if gen is not None and (gen / MANIFEST).is_file() else None


def current_target(data_dir: Path) -> Path | None:
    """Where ``current`` points, whether or not a manifest is there (None without a link)."""
    link = Path(data_dir) / "current"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return (link.parent / target).resolve()


#: Files every generation of this format holds besides its parts and the manifest.
REQUIRED_FILES = ("days.parquet", "oblast_changes.parquet", "oblast_areas.parquet", "oblasts.parquet",
                  "outline.parquet", "boundaries.json.gz", "settlements.parquet")
_PART_PREFIXES = ("geom-", "display-", "delta-")


def read_manifest(gen: Path) -> dict:
    """The manifest of ``gen``; ValueError when it is not a JSON object, OSError when unreadable."""
    doc = orjson.loads((Path(gen) / MANIFEST).read_bytes())
    if not isinstance(doc, dict):
        raise ValueError(f"not a JSON object but {type(doc).__name__}")
    return doc


def file_checksum(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def file_entries(gen: Path, previous: dict | None = None, previous_dir: Path | None = None) -> dict[str, dict]:
    """Size and checksum of every file of ``gen`` (the manifest excepted), for its manifest.

    A file hard-linked from ``previous_dir`` keeps its entry in that generation's
    ``previous`` listing (already verified): it is neither read again nor re-blessed.
    """
    out: dict[str, dict] = {}
    for path in sorted(Path(gen).iterdir()):
        name = path.name
        if name == MANIFEST or name.startswith(".") or not path.is_file():
            continue
        entry = (previous or {}).get(name)
        if previous_dir is not None and isinstance(entry, dict):
            with contextlib.suppress(OSError):
                if os.path.samefile(path, Path(previous_dir) / name):
                    out[name] = entry
                    continue
        out[name] = {"size": path.stat().st_size, "blake2b": file_checksum(path)}
    return out


def verify(gen: Path) -> list[str]:
    """What is damaged in generation ``gen``, one plain sentence a problem ([] when sound).

    Checks the manifest, then every file it lists against its size and checksum, and
    that no file is missing or foreign to the generation. A generation written before
    checksums were kept is checked by reading every file's structure instead. A
    generation of another format is not judged here (a sync rebuilds it anyway).
    """
    gen = Path(gen)
    if not gen.is_dir():
        return [f"{gen.name}: the generation folder is missing"]
    try:
        manifest = read_manifest(gen)
    except FileNotFoundError:
        return [f"{MANIFEST}: missing"]
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST}: unreadable ({exc})"]
    if manifest.get("format") != FORMAT_VERSION:
        return []
    problems: list[str] = []
    present = {p.name for p in gen.iterdir() if p.is_file() and not p.name.startswith(".")} - {MANIFEST}
    files = manifest.get("files")
    if files is None:  # written before checksums: check each file can be read
        for name in REQUIRED_FILES:
            if name not in present:
                problems.append(f"{name}: missing")
        for name in sorted(present):
            why = _structure_problem(gen / name)
            if why:
                problems.append(f"{name}: {why}")
        return problems
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return [f"{MANIFEST}: its file list is not a mapping of name to size and checksum"]
    for name in REQUIRED_FILES:
        if name not in files:
            problems.append(f"{MANIFEST}: does not list {name}")
    for name, entry in sorted(files.items()):
        path = gen / name
        if name not in present:
            problems.append(f"{name}: missing")
            continue
        try:
            size = path.stat().st_size
            if size != entry.get("size"):
                problems.append(f"{name}: {size:,} bytes, the sync wrote {entry.get('size'):,} (truncated or changed)")
            elif file_checksum(path) != entry.get("blake2b"):
                problems.append(f"{name}: its content changed since the sync wrote it (checksum mismatch)")
        except OSError as exc:
            problems.append(f"{name}: unreadable ({exc.strerror or exc})")
        except TypeError:
            problems.append(f"{MANIFEST}: the entry of {name} is malformed")
    for name in sorted(present - set(files)):
        if name.startswith(_PART_PREFIXES) or name in REQUIRED_FILES or name == served.FRONTS_FILE:
            problems.append(f"{name}: not written by the sync (not in the manifest)")
    return problems


def _structure_problem(path: Path) -> str | None:
    """Why a store file cannot be read (None when it can): Parquet footer, gzipped JSON."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.read_metadata(path)
        elif path.suffix == served.ARROW:
            served.read(path).validate(full=True)
        elif path.name.endswith(".json.gz"):
            orjson.loads(gzip.decompress(path.read_bytes()))
    except Exception as exc:  # noqa: BLE001 - any failure to read is the answer
        return f"unreadable ({type(exc).__name__}: {exc})"
    return None


def new_generation_dir(data_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
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
