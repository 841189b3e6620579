"""The hand-off between a notebook and the runner that executes it.

When the runner executes a notebook it sets ``PSU_STUDY_STAGE_DIR``: every output is then
written there and only moved into place once the whole notebook has succeeded, so a failed
build leaves the previous good outputs untouched. The same folder records which data files
the notebook read, so the runner re-executes exactly the notebooks whose inputs changed.
Outside the runner (JupyterLab, pytest) files are written straight to their targets, each
one atomically.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .environment import STAGE_ENV

MOVES_FILE = "moves.jsonl"
READS_FILE = "reads.jsonl"
ABSENT = "absent"
"""Recorded for a file a notebook (or the paper) looked for and did not find (an optional
list): creating it later makes what read it stale."""


def digest(data: bytes) -> str:
    """The project's one digest (sha256, hexadecimal): of every output, input and piece of
    code the build's records name."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """What the record holds for a file: its ``digest``, or ``ABSENT`` for a file a notebook
    or the paper looked for and did not find."""
    return digest(path.read_bytes()) if path.is_file() else ABSENT


def stage_dir() -> Path | None:
    value = os.environ.get(STAGE_ENV)
    return Path(value) if value else None


def _append(name: str, record: dict[str, str]) -> None:
    stage = stage_dir()
    if stage is None:
        return
    with open(stage / name, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def record_read(path: Path) -> None:
    """Note that the notebook read ``path`` (a no-op outside the runner)."""
    _append(READS_FILE, {"path": str(Path(path).resolve())})


def write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` for ``target``: staged under the runner, else atomically in place."""
    target = Path(target).resolve()
    stage = stage_dir()
    if stage is not None:
        from .paths import display_path

        with naming(display_path(target)):  # shown in the notebook's error
            staged = Path(tempfile.mkstemp(dir=stage, suffix="-" + target.name)[1])
            staged.write_bytes(data)
        _append(MOVES_FILE, {"staged": str(staged), "target": str(target)})
        return
    write_atomic(target, data)


@contextlib.contextmanager
def naming(target: str | Path) -> Iterator[None]:
    """An operating-system error in this block names ``target``, the file being written,
    not a temporary file or none at all (``write()`` on a full disk names no file)."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(target)) from None


def write_atomic(target: Path, data: bytes) -> None:
    """Replace ``target`` in one step: a reader never sees half a file, a crash leaves the
    old one."""
    with naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


UNLINKABLE = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP)
"""Why a file system may refuse a hard link: then the snapshot copies the file."""


@contextlib.contextmanager
def all_or_nothing(folders: list[Path], spare: Path) -> Iterator[None]:
    """Keep the block's changes to the files under ``folders`` only if it completes: on an
    operating-system error (a full disk, a folder turned read-only) every file is put back
    as it was before, and files the block made are removed, so the folders hold the previous
    outputs or the complete new ones. The snapshot is hard links in a folder under ``spare``
    (on the same file system): no data is copied, and nothing needs space the disk lacks."""
    spare.mkdir(parents=True, exist_ok=True)
    snapshot = Path(tempfile.mkdtemp(prefix="before-", dir=spare))
    kept: dict[Path, Path] = {}
    try:
        for path in _files(folders):
            kept[path] = snapshot / str(len(kept))
            try:
                os.link(path, kept[path])
            except OSError as exc:
                if exc.errno not in UNLINKABLE:
                    raise
                shutil.copy2(path, kept[path])
        try:
            yield
        except OSError:
            _put_back(folders, kept)
            raise
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def write_if_changed(target: Path, data: bytes) -> bool:
    """Write ``target`` (atomically) only when its bytes differ or it is absent, and say
    whether it did: an unchanged file keeps its bytes and its time."""
    if target.exists() and target.read_bytes() == data:
        return False
    write_atomic(target, data)
    return True


def _files(folders: list[Path]) -> list[Path]:
    return sorted({p for folder in folders if folder.is_dir()
                   for p in folder.rglob("*") if p.is_file() and not p.is_symlink()})


def _put_back(folders: list[Path], kept: dict[Path, Path]) -> None:
    for path in _files(folders):
        if path not in kept:
            path.unlink()
    for path, before in kept.items():
        if not path.exists() or not os.path.samefile(path, before):
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(before, path)


def read_records(stage: Path, name: str) -> list[dict[str, str]]:
    path = stage / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
