"""On-disk caches: where they live, how their entries are checked, and how big they may grow.

Caches only ever speed things up. Every cache entry is

* keyed by the *content* of what it was built from (a hash of the source bytes, never a file's
  size and modification time, which ``cp -p``, ``rsync -t`` or ``tar`` reproduce for new bytes;
  :func:`source_checksum` remembers a file's hash while its inode's change time proves it
  unchanged, the way git's index does, so a multi-GB source is not re-hashed on every run);
* written atomically (:func:`straddles.engine.outputs.atomic_path`) and never modified in place;
* stored with a checksum of its own bytes, verified when it is opened: a damaged entry is
  rebuilt with a warning, never used;
* kept in a least-recently-used budget: after each write the oldest entries (by last use) are
  removed until the folder fits ``$STRADDLES_CACHE_MAX_MB`` (default :data:`DEFAULT_MAX_MB`).

The folder is ``$STRADDLES_CACHE_DIR``, else ``~/.cache/straddles``, with one subfolder per kind
(``prices``, ``amt``, ``sources``, ``days``: the explorer's copies of day tables). ``straddles cache info`` and ``straddles cache clear`` show and empty it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import xxhash

#: the kinds of cached objects, one subfolder each (``sources`` remembers source files' hashes)
KINDS = ("prices", "amt", "sources", "days")
#: default size budget of each cache kind, in MB (``$STRADDLES_CACHE_MAX_MB`` overrides it)
DEFAULT_MAX_MB = 2048
#: a file changed less than this long ago is hashed again on every use (see :func:`source_checksum`)
RACY_SECONDS = 2.0
#: most files whose hash :func:`source_checksum` remembers per memo file
MEMO_ENTRIES = 1000


def cache_root() -> Path:
    """The cache folder: ``$STRADDLES_CACHE_DIR``, else ``~/.cache/straddles``."""
    return Path(os.environ.get("STRADDLES_CACHE_DIR") or Path.home() / ".cache" / "straddles")


def cache_dir(kind: str) -> Path:
    """The cache folder for one kind of cached object (``prices``, ``amt``)."""
    return cache_root() / kind


def max_bytes() -> int:
    """The size budget of one cache kind in bytes, from ``$STRADDLES_CACHE_MAX_MB``."""
    text = os.environ.get("STRADDLES_CACHE_MAX_MB", "")
    try:
        megabytes = float(text) if text.strip() else DEFAULT_MAX_MB
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(max(megabytes, 0) * 2**20)


def checksum(*buffers) -> str:
    """xxh3-128 hex digest of buffers (bytes, memoryviews, NumPy arrays), in order.

    xxh3 hashes at memory speed (about 10 GB/s), so checking a cache entry costs a few
    milliseconds per hundred MB, small beside rebuilding it.
    """
    digest = xxhash.xxh3_128()
    for buffer in buffers:
        digest.update(memoryview(buffer).cast("B") if not isinstance(buffer, (bytes, bytearray)) else buffer)
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> bytes:
    """sha256 of a file, memoized on its mtime and size (so an edit in a running process is seen)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).digest()


def sources_digest(folder: str | os.PathLike) -> str:
    """One digest over every ``.py`` file directly in ``folder`` (names and contents): what keys a
    cache of something the code in that folder computes, so that an edit or upgrade is a miss."""
    digest = hashlib.sha256()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.endswith(".py") and entry.is_file():
            stat = entry.stat()
            digest.update(entry.name.encode())
            digest.update(_file_digest(entry.path, stat.st_mtime_ns, stat.st_size))
    return digest.hexdigest()


#: a shared map whose pages are all mapped by the one system call (MAP_POPULATE, where it exists)
_POPULATED = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


def map_file(path: str | os.PathLike) -> mmap.mmap | bytes:
    """A read-only memory map of a whole file (``b""`` for an empty one).

    MAP_POPULATE maps every page in one system call instead of one page fault per 4 kB, which
    halves the cost of reading a cached file once through (as :func:`checksum` does).
    """
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, flags=_POPULATED, prot=mmap.PROT_READ)


#: bytes of a file mapped at a time by :func:`file_checksum` (a multiple of any page size)
CHECKSUM_WINDOW = 64 << 20


def file_checksum(path: str | os.PathLike) -> str:
    """:func:`checksum` of a file's bytes, hashed in place in the page cache.

    The file is mapped a window at a time (MAP_POPULATE, see :func:`map_file`): a whole-file map
    would count every page of a large file in the process's resident memory (a results folder's
    230 MB cube put 280 MB on the peak RSS of the run that wrote it).
    """
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        for offset in range(0, size, CHECKSUM_WINDOW):
            length = min(CHECKSUM_WINDOW, size - offset)
            with mmap.mmap(handle.fileno(), length, flags=_POPULATED, prot=mmap.PROT_READ, offset=offset) as window:
                digest.update(window)
    return digest.hexdigest()


def source_checksum(path: str | os.PathLike, memo: Path) -> str:
    """:func:`file_checksum` of a source file, remembered in the JSON file ``memo``.

    A remembered hash is reused only while the file's device, inode, size, mtime *and ctime* are
    unchanged. The kernel sets ctime to the current time on every write, rename onto the path and
    ``utime`` call, and no system call sets it back, so ``cp -p``, ``rsync -t`` and ``tar``, which
    restore mtime, still change it. As in git's index ("racy git"), a file changed within
    :data:`RACY_SECONDS` of being hashed is not remembered: a second change within the same
    timestamp tick could otherwise keep the old stamps.
    """
    path = Path(path)
    stat = path.stat()
    stamp = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    name = str(path.resolve())
    entries = _read_memo(memo)
    known = entries.get(name)
    if isinstance(known, dict) and known.get("stamp") == stamp and isinstance(known.get("xxh3"), str):
        return known["xxh3"]
    digest = file_checksum(path)
    settled = time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > RACY_SECONDS * 1e9
    if settled and path.stat().st_ctime_ns == stat.st_ctime_ns:  # unchanged while it was hashed
        entries.pop(name, None)
        entries[name] = {"stamp": stamp, "xxh3": digest}
        for old in list(entries)[:-MEMO_ENTRIES]:
            del entries[old]
        _write_memo(memo, entries)
    return digest


def _read_memo(memo: Path) -> dict:
    try:
        entries = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _write_memo(memo: Path, entries: dict) -> None:
    from .outputs import atomic_path  # outputs imports this module

    try:
        with atomic_path(memo) as temporary:
            temporary.write_text(json.dumps(entries), encoding="utf-8")
    except OSError:  # a read-only cache folder only costs speed
        pass


def touch(path: Path) -> None:
    """Mark a cache entry as just used (its mtime orders the least-recently-used eviction)."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune(folder: Path, keep: Path | None = None, budget: int | None = None) -> list[Path]:
    """Remove the least recently used entries of ``folder`` until it fits ``budget`` bytes.

    ``keep`` (the entry just written) is never removed. Hidden files (temporaries of writes in
    progress) are left to :func:`straddles.engine.outputs.remove_stale_temporaries`.
    """
    budget = max_bytes() if budget is None else budget
    entries = []
    for path in _entries(folder):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((stat.st_mtime_ns, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= budget:
            break
        if path == keep:
            continue
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed.append(path)
    return removed


@dataclass(frozen=True)
class CacheUsage:
    """Entries and bytes of one cache kind."""

    kind: str
    folder: Path
    entries: int
    bytes: int


def usage() -> list[CacheUsage]:
    """Entries and bytes per cache kind (``straddles cache info``)."""
    result = []
    for kind in KINDS:
        folder = cache_dir(kind)
        sizes = []
        for path in _entries(folder):
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                pass
        result.append(CacheUsage(kind, folder, len(sizes), sum(sizes)))
    return result


def clear() -> int:
    """Delete every cache folder (``straddles cache clear``); returns the bytes freed."""
    freed = sum(item.bytes for item in usage())
    for kind in KINDS:
        shutil.rmtree(cache_dir(kind), ignore_errors=True)
    return freed


def _entries(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if not p.name.startswith(".") and p.is_file()]
    except OSError:
        return []
