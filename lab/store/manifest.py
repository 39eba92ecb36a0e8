"""A run folder's manifest: each file's size and CRC-32 checksum, written last, inside the folder's
atomic rename, so that a damaged file (truncated, overwritten, half-copied) is found by name.

  <run>/manifest.json   {"version": 1, "files": {"features.npy": {"size": 35840128, "crc32": "9f1c2a07"}, ...}}

metrics.json is not in it: the run's scores are rewritten there when they arrive after the map (a
reader checks it by parsing it). Sizes are checked on every load (a stat per file); checksums once
per process and run, and on `python -m lab runs --verify`. CRC-32 finds damage, not tampering: it is
what the lab can afford on every first open (75 MB of a 70,000-image run in about 20 ms here).

A folder from before manifests existed is checked by structure (each .npy's header against its size,
the safetensors header against its size) and gets its manifest on its first full verification.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np

from lab.store.atomic import save_json_atomically

MANIFEST = "manifest.json"
MUTABLE = ("metrics.json",)  # rewritten after the folder is stored: checked by parsing instead
VERSION = 1
CHUNK = 8 << 20


def crc32(path: Path) -> str:
    """CRC-32 of a file's bytes as 8 hex digits, read in 8 MB chunks."""
    value = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            value = zlib.crc32(chunk, value)
    return f"{value:08x}"


def crc32_of(data) -> str:
    """CRC-32 of bytes or of a uint8 array (any buffer), as 8 hex digits."""
    return f"{zlib.crc32(memoryview(data)):08x}"


STORED_FOLDERS = ("snapshots",)  # subfolders written with the run (the rest are caches added later)


def listed_files(folder: Path) -> list[str]:
    """The files a manifest covers: every plain file directly in the folder and in STORED_FOLDERS but
    the mutable ones and the manifest itself (caches added later are recomputed when damaged)."""
    folder, skip = Path(folder), {MANIFEST, *MUTABLE}
    names = [p.name for p in folder.iterdir() if p.is_file()]
    names += [
        f"{sub}/{p.name}"
        for sub in STORED_FOLDERS
        if (folder / sub).is_dir()
        for p in (folder / sub).iterdir()
        if p.is_file()
    ]
    return sorted(n for n in names if n not in skip and not n.rsplit("/", 1)[-1].startswith("."))


def describe(folder: Path, names: list[str] | None = None) -> dict:
    """The manifest of `folder` as it is now (sizes and checksums of `names`, default listed_files)."""
    folder = Path(folder)
    names = listed_files(folder) if names is None else names
    return {
        "version": VERSION,
        "files": {n: {"size": (folder / n).stat().st_size, "crc32": crc32(folder / n)} for n in names},
    }


def write_manifest(folder: Path, names: list[str] | None = None) -> dict:
    """Describe the folder's files and write the manifest (atomically, last)."""
    doc = describe(folder, names)
    save_json_atomically(Path(folder) / MANIFEST, doc)
    return doc


def read_manifest(folder: Path) -> dict | None:
    """The manifest, None when the folder has none (stored before manifests), ValueError when it is damaged."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
        files = doc["files"]
        assert all(isinstance(v["size"], int) and isinstance(v["crc32"], str) for v in files.values())
    except (json.JSONDecodeError, KeyError, TypeError, AssertionError, AttributeError) as exc:
        raise ValueError(
            f"{MANIFEST} is damaged ({type(exc).__name__}); the run's files cannot be checked"
        ) from exc
    return doc


def size_problems(folder: Path, manifest: dict) -> list[str]:
    """One sentence per file that is missing, whose size is not the manifest's, or whose checksum a
    check of this process found wrong."""
    out = []
    for name, want in manifest["files"].items():
        path = Path(folder) / name
        if not path.is_file():
            out.append(f"{name} is missing")
        elif (size := path.stat().st_size) != want["size"]:
            out.append(f"{name} is {size:,} bytes; the manifest says {want['size']:,}")
        elif (why := failure(path)) is not None:
            out.append(why)
    return out


def checksum_problems(folder: Path, manifest: dict, names=None) -> list[str]:
    """One sentence per file (of `names`, default all) whose CRC-32 is not the manifest's (sizes are
    checked first). A file that passes is remembered as checked for this process."""
    out = size_problems(folder, manifest)
    bad_size = {p.split(" ", 1)[0] for p in out}
    for name, want in manifest["files"].items():
        if name in bad_size or (names is not None and name not in names):
            continue
        if crc32(Path(folder) / name) != want["crc32"]:
            out.append(f"{name} does not match its checksum (its bytes changed since the run was stored)")
        else:
            mark_checked(Path(folder) / name)
    return out


def _npy_header(f) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an open .npy file's header, the file left at the start of the data."""
    major, _ = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(f)
    return tuple(shape), np.dtype(dtype)


_CHECKED: set = set()  # (file, size, mtime) whose checksum this process has checked


def _key(path: Path) -> tuple:
    st = Path(path).stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def checked(path: Path) -> bool:
    """Whether this process has checked this file's checksum, as it is now."""
    try:
        return _key(path) in _CHECKED
    except OSError:
        return False


def mark_checked(path: Path) -> None:
    _CHECKED.add(_key(path))


def forget_checked() -> None:
    """Check every file again on its next read (a benchmark's cold start)."""
    wait_for_checks()
    _CHECKED.clear()
    _FAILED.clear()


_FAILED: dict = {}  # (file, size, mtime) -> why its checksum check failed
_PENDING: list = []  # checks under way
_POOL = None


def check_later(path: Path, data, want: dict) -> None:
    """Check the CRC-32 of bytes just read, on a thread of its own, while the caller uses them: the
    read is not slowed (zlib releases the GIL, so the check takes the other core). A mismatch is
    remembered (`failure`) and the run's next load says it is damaged."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(1, thread_name_prefix="lab-checksums")
    key = _key(path)

    def check() -> None:
        if crc32_of(data) == want["crc32"]:
            _CHECKED.add(key)
        else:
            _FAILED[key] = (
                f"{Path(path).name} does not match its checksum (its bytes changed since the run was stored)"
            )

    _PENDING[:] = [f for f in _PENDING if not f.done()]
    _PENDING.append(_POOL.submit(check))


def wait_for_checks() -> None:
    """Until the checks under way are done (tests, `runs --verify`)."""
    for f in list(_PENDING):
        f.result()


def failure(path: Path) -> str | None:
    """Why this file, as it is now, failed a checksum check in this process (None: it did not)."""
    try:
        return _FAILED.get(_key(path))
    except OSError:
        return None


def npy_from_buffer(data: np.ndarray) -> np.ndarray:
    """The array of a whole .npy file held in a uint8 array, without copying it (writable)."""
    f = io.BytesIO(data[:4096].tobytes())  # the header: magic, length and a dict, well under 4 KB
    shape, dtype = _npy_header(f)
    count = int(np.prod(shape))
    if f.tell() + count * dtype.itemsize != len(data):
        raise ValueError(
            f"the header says {f.tell() + count * dtype.itemsize:,} bytes, the file has {len(data):,}"
        )
    return data[f.tell() :].view(dtype).reshape(shape)


def npy_shape(path: Path) -> tuple[int, ...]:
    """The shape a .npy file's header declares (the data is not read)."""
    with open(path, "rb") as f:
        return _npy_header(f)[0]


def structure_problems(folder: Path, names: list[str]) -> list[str]:
    """For a folder without a manifest: each .npy's header against its size, and the safetensors
    header against its size. One sentence per damaged file."""
    out = []
    for name in names:
        path = Path(folder) / name
        try:
            if name.endswith(".npy"):
                with open(path, "rb") as f:
                    shape, dtype = _npy_header(f)
                    need = f.tell() + int(np.prod(shape)) * dtype.itemsize
            elif name.endswith(".safetensors"):
                with open(path, "rb") as f:
                    (n,) = struct.unpack("<Q", f.read(8))
                    header = json.loads(f.read(n))
                ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
                need = 8 + n + max(ends, default=0)
            else:
                continue
        except (OSError, ValueError, struct.error, KeyError, TypeError) as exc:
            out.append(f"{name} cannot be read ({type(exc).__name__}: {exc})")
            continue
        if (size := path.stat().st_size) != need:
            out.append(f"{name} is {size:,} bytes; its header says {need:,}")
    return out
