"""Writing output files so that a reader never sees half of one.

A temporary file is written, then renamed over the target (a rename is atomic only within
one file system). A process killed in between leaves the temporary behind, so for a whole
tree (the site) temporaries go to a staging folder beside it, never inside what a static
host publishes, and leftovers of an earlier kill are removed on the next write.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from arxiv_digest.errors import PublishError

# What mkstemp(prefix=".{name}.", suffix=".tmp") makes: ".index.html.k3j_x9a2.tmp".
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def write_atomic(path: Path, content: str | bytes, *, staging: Path | None = None) -> bool:
    """Write via a temporary file, then rename over the target.

    The temporary goes to ``staging`` (which must be on the target's file system) or, by
    default, next to the target. Returns False (and writes nothing) when the file already
    holds exactly this content.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data, staging or path.parent)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {_one_line(exc)}") from None
    return True


def _replace(path: Path, data: bytes, folder: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(path.stat().st_mode & 0o777 if path.exists() else 0o644)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_tree(files: dict[str, bytes], tree: Path) -> list[str]:
    """Write ``files`` (relative path -> bytes) under ``tree``; returns the paths changed.

    Temporaries are written beside the tree (:func:`staging_for`), so a kill mid-write
    leaves nothing inside it; what an older kill left there is removed first.
    """
    _ensure_folder(tree)
    staging = staging_for(tree)
    remove_temporaries(tree)
    if staging is not None:
        remove_temporaries(staging)
    try:
        return [
            path
            for path, data in sorted(files.items())
            if write_atomic(tree / path, data, staging=staging)
        ]
    finally:
        if staging is not None:
            with contextlib.suppress(OSError):
                staging.rmdir()  # left when a concurrent writer still uses it


def _ensure_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise PublishError(f"cannot write to {folder}: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create the folder {folder}: {_one_line(exc)}") from None


def staging_for(tree: Path) -> Path | None:
    """A folder beside ``tree`` (``site/`` -> ``.site.tmp/``) for its temporaries.

    None when there can be none (the parent is read-only, or ``tree`` is a mount point of
    another file system, e.g. a Docker volume): then temporaries go next to each file.
    """
    staging = tree.parent / f".{tree.name}.tmp"
    try:
        staging.mkdir(exist_ok=True)
        if staging.stat().st_dev == tree.stat().st_dev:
            return staging
        staging.rmdir()
    except OSError:
        pass
    return None


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete what a killed :func:`write_atomic` left in ``folder`` (recursively).

    Only files named as our temporaries are touched; a run lock keeps two writers of the
    same tree from running at once, so none of these is being written right now.
    """
    removed = []
    try:
        for path in sorted(folder.rglob(".*.tmp")):
            if _TEMPORARY.match(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path)
    except OSError as exc:
        raise PublishError(f"cannot clean up {folder}: {_one_line(exc)}") from None
    return removed


def _one_line(exc: OSError) -> str:
    """``Permission denied`` rather than ``[Errno 13] Permission denied: '/…/.x.k3j_x9a2.tmp'``:
    the caller names the file; the temporary's name would only confuse."""
    if exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
