"""What a server sends as it is: front lines, display geometry and deltas (gzipped GeoJSON).

A generation keeps them in Arrow IPC files, uncompressed (the values are gzip already):
``display-<stamp>.arrow`` and ``delta-<stamp>.arrow`` parts (append-only, hard-linked from one
generation to the next) and ``fronts.arrow``. A server indexes them at start-up and reads a
value from its file when it sends it (:class:`Served`), so the values stay in the system's
file cache, shared by every worker, instead of in each worker's memory (about 40 MB each).
Generations written before kept them in zstd Parquet (and the front lines in days.parquet's
``front`` column): a server reads those into memory, and the next sync rewrites them in Arrow.
"""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

#: Suffix of the served parts written now (``.parquet``: written before).
ARROW = ".arrow"
#: Each day's front line: day, hash, gz.
FRONTS_FILE = "fronts.arrow"
PREFIXES = ("display", "delta")


def parts(gen: Path, prefix: str) -> list[Path]:
    """The ``display`` or ``delta`` parts of generation ``gen``, Arrow or Parquet, oldest first."""
    found = [*Path(gen).glob(f"{prefix}-*{ARROW}"), *Path(gen).glob(f"{prefix}-*.parquet")]
    return sorted(found, key=lambda p: p.stem)


def in_parquet(gen: Path) -> bool:
    """Whether generation ``gen`` keeps what it serves as older ones did (see the module)."""
    return not (Path(gen) / FRONTS_FILE).is_file() or any(
        p.suffix != ARROW for k in PREFIXES for p in parts(gen, k))


def read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A served part as an Arrow table (an Arrow part memory-mapped, a Parquet part read)."""
    if path.suffix == ARROW:
        t = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        return t.select(columns) if columns else t
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns, memory_map=True)


def write(table: pa.Table, path: Path) -> None:
    """Write ``table`` as an uncompressed Arrow IPC file."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


class Served:
    """Key -> bytes over binary columns of served parts.

    For an Arrow part only where each value lies in the file is kept, and a value is read
    from the file when asked for (:meth:`get`); a Parquet part's values are held in memory.
    A key given again keeps its first value; a null value is no value.
    """

    def __init__(self):
        # key -> (path, position, length) in an Arrow part, or (array, index, None) in memory
        self._at: dict = {}

    def add_part(self, path: Path, keys: list, column: str = "gz") -> None:
        """Index ``column`` of the served part at ``path``, its rows keyed by ``keys``."""
        path = Path(path)
        if path.suffix != ARROW:
            self.add(keys, read(path, [column]).column(column))
            return
        mapped = pa.memory_map(str(path))
        whole = mapped.read_buffer(mapped.size())
        values = pa.ipc.open_file(whole).read_all().column(column)
        i = 0
        for chunk in values.chunks:
            offsets = chunk.buffers()[1]
            data = chunk.buffers()[2]
            start = (data.address - whole.address) if data is not None else 0
            if data is not None and not 0 <= start <= whole.size - data.size:
                self.add(keys[i:i + len(chunk)], pa.chunked_array([chunk]))  # not laid out in the file: in memory
            else:
                import numpy as np

                width = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
                ends = np.frombuffer(offsets, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1].tolist()
                valid = chunk.is_valid().to_pylist() if chunk.null_count else None
                for j in range(len(chunk)):
                    k = keys[i + j]
                    if k is not None and k not in self._at and (valid is None or valid[j]):
                        self._at[k] = (path, start + ends[j], ends[j + 1] - ends[j])
            i += len(chunk)

    def add(self, keys: list, values: pa.ChunkedArray) -> None:
        """Index values held in memory, keyed by ``keys``."""
        i = 0
        for chunk in values.chunks:
            valid = chunk.is_valid().to_pylist() if chunk.null_count else None
            for j in range(len(chunk)):
                k = keys[i + j]
                if k is not None and k not in self._at and (valid is None or valid[j]):
                    self._at[k] = (chunk, j, None)
            i += len(chunk)

    def get(self, key, default=None):
        """The value of ``key`` (bytes), or ``default``; OSError when its file cannot be read."""
        at = self._at.get(key)
        if at is None:
            return default
        src, pos, n = at
        if n is None:
            return src[pos].as_py()
        fd = os.open(src, os.O_RDONLY)
        try:
            out = os.pread(fd, n, pos)
        finally:
            os.close(fd)
        if len(out) != n:
            raise OSError(f"{src.name} is shorter than when it was opened")
        return out

    def __contains__(self, key) -> bool:
        return key in self._at

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self):
        return iter(self._at)
