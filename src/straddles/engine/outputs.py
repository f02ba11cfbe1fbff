"""Atomic file output: a failed run never leaves a half-written file, or a mixed set, behind.

Every writer in the package goes through :func:`atomic_path`: the data is written to a hidden
temporary file in the destination folder and renamed over the final name only once complete
(``os.replace`` is atomic within a file system). :func:`write_files` extends this to files that
should appear together, and :func:`result_folder` to a folder whose files form one set (a
backtest's results): the folder's ``manifest.json``, written last, names every file of the set
with its size and checksum, and :func:`verify_folder` refuses a folder whose files do not match
it (a run killed between two renames leaves new files beside old ones).

Temporary files are named ``.<name>.<pid>-<random>.tmp``; one whose process is gone (a run killed
with ``kill -9``) is removed by the next write into the same folder (:func:`remove_stale_temporaries`).
A failed write (disk full, permissions) raises :class:`~straddles.errors.OutputError`, a one-line
user error that is also an :class:`OSError`.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import OutputError, StraddlesError
from .cache import file_checksum

#: the file listing a result folder's set (see :func:`result_folder`)
MANIFEST_FILE = "manifest.json"
#: temporaries whose writer cannot be identified are stale after this many seconds
STALE_TEMP_SECONDS = 3600

#: Parquet compression for every table we write. Measured on the full universe's 8M-row day table
#: (BENCHMARKS.md): snappy writes in 0.49 s (350 MB), zstd level 1 in 1.08 s (309 MB), lz4 0.74 s.
PARQUET_COMPRESSION = "snappy"


def parquet_options(schema: pa.Schema) -> dict:
    """Writer options for a table: dictionary pages only for string columns (trying them on
    float columns costs more than half the write time and never pays) and min/max statistics only
    for integer and date columns (the ones readers filter on)."""
    strings = [f.name for f in schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)
               or pa.types.is_large_string(f.type)]
    keys = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_date(f.type)]
    return {"compression": PARQUET_COMPRESSION, "use_dictionary": strings or False, "write_statistics": keys or False}


@contextmanager
def atomic_path(final: str | Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` if the block succeeds.

    Readers see the old file or the complete new one, never a partial file. With ``durable`` the
    data is also flushed to disk before the rename, so that it survives a crash (caches use this;
    large outputs skip the cost). The temporary name is unique, so concurrent writers of the same
    file do not collide; the last one to finish wins. Stale temporaries of ``final`` left by dead
    processes are removed first. An :class:`OSError` while writing becomes an :class:`OutputError`.
    """
    final = Path(final)
    if final.is_dir():
        raise StraddlesError(f"{final}: is a folder; give a file name")
    _make_folder(final.parent)
    remove_stale_temporaries(final.parent, final.name + ".")
    temporary = _temporary_path(final)
    try:
        yield temporary
        if durable:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temporary, final)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _output_error(final, exc) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_output_folder(directory: Path) -> None:
    """Fail early, with one line, when an output folder's name is taken by a file."""
    if directory.exists() and not directory.is_dir():
        raise StraddlesError(f"{directory}: the output must be a folder, but a file of that name exists")


def remove_stale_temporaries(folder: Path, prefix: str = "") -> list[Path]:
    """Remove ``.<prefix>*.tmp`` files of ``folder`` whose writer is gone.

    The writer's process id is part of the name: the file is stale when that process no longer
    exists (on this machine), or, for names without one, when it is older than
    :data:`STALE_TEMP_SECONDS`. Young files of unknown writers may belong to a concurrent run.
    """
    removed = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith("." + prefix) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for path in candidates:
        if _writer_is_gone(path):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def _temporary_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def _writer_is_gone(path: Path) -> bool:
    tag = path.name[: -len(".tmp")].rsplit(".", 1)[-1]
    pid_text, dash, _ = tag.partition("-")
    if dash and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, owned by someone else
            return False
        return False
    try:
        return time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS
    except OSError:
        return False


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StraddlesError(f"{folder}: cannot create this folder (a file is in the way)") from None
    except OSError as exc:
        raise _output_error(folder, exc) from exc


def _output_error(path: Path, exc: OSError) -> OSError:
    if isinstance(exc, StraddlesError):
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    error = OutputError(f"{path}: cannot write: {' '.join(str(reason).split())}")
    error.errno = exc.errno
    return error


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` atomically as Parquet, or as CSV when ``path`` ends in ``.csv``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        _write(table, path.suffix.lower(), temporary)
    return path


def write_files(writers: dict[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files all-or-nothing: each ``writer(temporary_path)`` runs first, and the
    files are renamed into place only when every writer has succeeded."""
    with ExitStack() as stack:
        for final, writer in writers.items():
            writer(stack.enter_context(atomic_path(final)))
    return list(writers)


@contextmanager
def result_folder(directory: str | Path) -> Iterator[Callable[[str], Path]]:
    """Write a folder of files as one set; yields ``temporary(name) -> Path``.

    Each file is written to the temporary path the block asks for. When the block succeeds every
    file is checksummed and renamed into place, then ``manifest.json`` (a run id and each file's
    size and checksum) replaces the previous one, and files of the previous set that the new set
    lacks are removed. Until the new manifest is in place the old one describes the folder, so a
    crash between renames leaves files that :func:`verify_folder` rejects. On failure the
    temporaries are removed and the folder is untouched.
    """
    directory = Path(directory)
    _make_folder(directory)
    remove_stale_temporaries(directory)
    temporaries: dict[str, Path] = {}

    def temporary(name: str) -> Path:
        if name == MANIFEST_FILE or name in temporaries:
            raise ValueError(f"result_folder: {name!r} is reserved or already written")
        temporaries[name] = _temporary_path(directory / name)
        return temporaries[name]

    try:
        yield temporary
        files = {name: {"bytes": path.stat().st_size, "xxh3": file_checksum(path)}
                 for name, path in temporaries.items()}
        previous = _manifest_files(directory) or {}
        for name in sorted(temporaries):  # in name order, whatever order (or thread) wrote them
            os.replace(temporaries[name], directory / name)
        manifest = {"format": 1, "run_id": uuid.uuid4().hex, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "files": files}
        with atomic_path(directory / MANIFEST_FILE, durable=True) as path:
            path.write_text(json.dumps(manifest, indent=1))
        for name in set(previous) - set(files):
            (directory / name).unlink(missing_ok=True)
    except OSError as exc:
        for path in temporaries.values():
            path.unlink(missing_ok=True)
        raise _output_error(directory, exc) from exc
    except BaseException:
        for path in temporaries.values():
            path.unlink(missing_ok=True)
        raise


def verify_folder(directory: str | Path, names: list[str]) -> dict[str, Path]:
    """The paths of ``names`` in a result folder, after checking they belong to one run.

    With a ``manifest.json`` (every folder written by :func:`result_folder`) a file the manifest
    does not list counts as absent, each file in ``names`` must match its listed size and
    checksum, and every other listed file must exist with its listed size; any mismatch raises
    :class:`~straddles.errors.StraddlesError`. A folder without a manifest (written by hand or by
    an older version) is taken as it is. Returns ``{name: path}`` for the names present.
    """
    directory = Path(directory)
    listed = _manifest_files(directory, strict=True)
    if listed is None:
        return {name: directory / name for name in names if (directory / name).is_file()}
    present = {}
    for name, entry in listed.items():
        path = directory / name
        try:
            size = path.stat().st_size
        except OSError:
            raise StraddlesError(f"{directory}: {name} is listed in {MANIFEST_FILE} but missing "
                                 f"(an interrupted write?); rerun to rewrite the folder") from None
        matches = size == entry.get("bytes") and (name not in names or file_checksum(path) == entry.get("xxh3"))
        if not matches:
            raise StraddlesError(f"{directory}: {name} does not match {MANIFEST_FILE} (files of different runs "
                                 f"mixed by an interrupted write, or edited by hand); rerun to rewrite the folder")
        if name in names:
            present[name] = path
    return present


def _manifest_files(directory: Path, strict: bool = False) -> dict | None:
    """The ``files`` entry of a folder's manifest; None without one. With ``strict`` an unreadable
    manifest is an error, otherwise it counts as absent."""
    path = directory / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        if strict:
            raise StraddlesError(f"{path}: cannot read the manifest: {exc}") from None
        return None
    try:
        files = json.loads(text)["files"]
        if not (isinstance(files, dict) and all(isinstance(v, dict) for v in files.values())):
            raise TypeError("files is not a mapping")
    except (ValueError, KeyError, TypeError) as exc:
        if strict:
            raise StraddlesError(f"{path}: invalid manifest ({exc}); rerun to rewrite the folder") from None
        return None
    return files


def _write(table: pa.Table, suffix: str, target: Path) -> None:
    if suffix == ".csv":
        plain = pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                          for name, column in zip(table.column_names, table.columns)})
        pacsv.write_csv(plain, target)
    else:
        pq.write_table(table, target, **parquet_options(table.schema))


def parquet_writer(table: pa.Table) -> Callable[[Path], None]:
    """A :func:`write_files` writer for one Parquet table."""
    return lambda target: _write(table, ".parquet", target)
