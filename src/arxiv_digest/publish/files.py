"""Writing output files so that a reader never sees half of one, nor half of a new day.

Every output of a run (the site's files and the README) is replaced by one
:class:`Switch`, in two phases:

* **prepare** (:meth:`Switch.stage`, :meth:`Switch.stage_tree`): each new or changed file
  is written, in full and synced, to a temporary on its target's file system. This is
  where a full disk fails; any failure deletes every temporary (and every folder made
  for them) and leaves all outputs exactly as they were. A few threads write and sync
  them while the caller goes on (creating a file and syncing it mostly wait for the
  disk, not for Python; a journaling file system commits overlapping syncs together).
* **commit** (:meth:`Switch.commit`): once every temporary is written and synced (a
  failure there fails the switch as above, before anything is replaced), they are
  renamed over their targets.
  Renames need no space. Files that did not exist yet go first: a rename that adds a
  folder entry is the only one that may still meet a full disk, and those can be undone
  without a trace. Files dropped from the site go last.

A temporary is never inside what a static host publishes: for a tree (the site) they go
to a staging folder beside it (``site/`` -> ``.site.tmp/``), or next to each file when
there can be none there (the tree is a mount point of another file system, e.g. a Docker
volume, where a rename from outside would fail). A process killed in between leaves
temporaries behind; the next write removes them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from arxiv_digest.errors import PublishError

# What mkstemp(prefix=".{name}.", suffix=".tmp") makes: ".index.html.k3j_x9a2.tmp".
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
_STAGING = re.compile(r"^\..+\.tmp$")  # a tree's staging folder: site/ -> .site.tmp/
_WRITERS = 4  # threads writing and syncing temporaries (one pool for every switch)
_POOL: list[ThreadPoolExecutor] = []


def _writers() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(_WRITERS, thread_name_prefix="switch"))
    return _POOL[0]


os.register_at_fork(after_in_child=_POOL.clear)  # a child has none of its parent's threads


@dataclass(frozen=True, slots=True)
class _Staged:
    written: Future[Path]  # the temporary, once written and synced
    target: Path
    existed: bool

    @property
    def temporary(self) -> Path:
        return self.written.result()


class Switch:
    """Files, in one or more folders, replaced together: all of them or none.

    Use as a context manager: leaving the block without :meth:`commit` (an exception, a
    failed stage) deletes every temporary, so the outputs stay as they were.
    """

    def __init__(self) -> None:
        self._staged: list[_Staged] = []
        self._removals: list[Path] = []
        self._made: list[Path] = []  # folders created while preparing, parents first
        self._staging: list[Path] = []  # staging folders beside trees, removed at the end
        self._folders: set[Path] = set()  # known to exist

    def __enter__(self) -> Switch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()

    def stage(self, path: Path, content: str | bytes, *, staging: Path | None = None) -> bool:
        """Write ``content`` to a temporary for ``path`` (in ``staging``, which must be on
        the same file system, or next to ``path``). False, and nothing written, when the
        file already holds exactly this content."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        needed, now = self._prepare(path, data, staging)
        if needed:
            self._submit(path, data, staging, now)
        return needed

    def _prepare(
        self, path: Path, data: bytes, staging: Path | None
    ) -> tuple[bool, os.stat_result | None]:
        """Whether ``path`` is to be written (not when it already holds ``data``), and its
        status now (None: it is new); its folder is made."""
        try:
            now = _stat(path)
            if _holds(path, now, data):
                return False, now
            self._make_folders(path.parent)
            if staging is None:
                _remove_leftovers_of(path)
        except OSError as exc:
            self.discard()
            raise PublishError(f"cannot write {path}: {_one_line(exc)}") from None
        return True, now

    def _submit(
        self, path: Path, data: bytes, staging: Path | None, now: os.stat_result | None
    ) -> None:
        mode = stat.S_IMODE(now.st_mode) if now is not None else 0o644
        folder = staging or path.parent
        written = _writers().submit(_write_temporary, path.name, data, folder, mode)
        self._staged.append(_Staged(written, path, now is not None))

    def stage_tree(
        self, files: dict[str, bytes], tree: Path, *, remove: Iterable[str] = ()
    ) -> list[str]:
        """Stage ``files`` (relative path -> bytes) under ``tree``, and the removal of the
        ``remove`` paths that exist; returns the paths that will change, sorted."""
        try:
            self._ensure_tree(tree)
            staging = staging_for(tree)
            remove_temporaries(tree)
            if staging is not None:
                self._staging.append(staging)
                remove_temporaries(staging)
            # Every look at the tree first, then every write: the writer threads would
            # slow each look down (they want the GIL back after each of theirs).
            prepared = [
                (p, data, *self._prepare(tree / p, data, staging))
                for p, data in sorted(files.items())
            ]
            changed = []
            for p, data, needed, now in prepared:
                if needed:
                    self._submit(tree / p, data, staging, now)
                    changed.append(p)
        except PublishError:
            self.discard()
            raise
        gone = sorted(p for p in set(remove) - set(files) if (tree / p).is_file())
        self._removals.extend(tree / p for p in gone)
        return sorted([*changed, *gone])

    def commit(self) -> None:
        """Rename every temporary over its target, new files first, then remove what was
        dropped. Raises :class:`PublishError` (outputs unchanged) if a temporary could
        not be written or a new file cannot be put in place."""
        for staged in self._staged:
            try:
                staged.written.result()
            except OSError as exc:
                self.discard()
                raise PublishError(f"cannot write {staged.target}: {_one_line(exc)}") from None
        placed: list[Path] = []
        for staged in (s for s in self._staged if not s.existed):
            try:
                staged.temporary.replace(staged.target)
            except OSError as exc:
                for target in placed:
                    with contextlib.suppress(OSError):
                        target.unlink()
                self.discard()
                raise PublishError(f"cannot write {staged.target}: {_one_line(exc)}") from None
            placed.append(staged.target)
        try:
            for staged in self._staged:
                if staged.existed:
                    staged.temporary.replace(staged.target)
            for path in self._removals:
                path.unlink(missing_ok=True)
        except OSError as exc:  # no space needed: a folder made read-only meanwhile
            self.discard()
            raise PublishError(f"cannot replace the outputs: {_one_line(exc)}") from None
        self._staged.clear()
        self._removals.clear()
        self._made.clear()
        self.discard()

    def discard(self) -> None:
        """Delete every temporary not yet renamed, and the folders made for them."""
        for staged in self._staged:
            try:
                temporary = staged.written.result()
            except Exception:  # not written: it has deleted itself
                continue
            with contextlib.suppress(OSError):
                temporary.unlink()
        self._folders.clear()
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty
        for staging in self._staging:
            with contextlib.suppress(OSError):
                staging.rmdir()  # left when a concurrent writer still uses it
        self._staged.clear()
        self._removals.clear()
        self._made.clear()
        self._staging.clear()

    def _make_folders(self, folder: Path) -> None:
        if folder in self._folders:
            return
        missing: list[Path] = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self._made.append(path)
        self._folders.update(missing or [folder])

    def _ensure_tree(self, tree: Path) -> None:
        if tree.exists() and not tree.is_dir():
            raise PublishError(f"cannot write to {tree}: it is a file, not a folder")
        try:
            self._make_folders(tree)
        except OSError as exc:
            raise PublishError(f"cannot create the folder {tree}: {_one_line(exc)}") from None


def _write_temporary(name: str, data: bytes, folder: Path, mode: int) -> Path:
    """``data`` in a new temporary for the file ``name`` in ``folder``, synced, with
    permissions ``mode``; deleted again if any of that fails."""
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)  # a full disk may only show here (delayed allocation)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    return Path(temporary)


def _stat(path: Path) -> os.stat_result | None:
    """``path``'s status (None: nothing there)."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _holds(path: Path, now: os.stat_result | None, data: bytes) -> bool:
    """Whether the file ``path`` (of status ``now``) holds exactly ``data``."""
    if now is None or not stat.S_ISREG(now.st_mode) or now.st_size != len(data):
        return False
    return path.read_bytes() == data


def write_atomic(path: Path, content: str | bytes) -> bool:
    """Replace one file via a temporary next to it; False when it already held this."""
    with Switch() as switch:
        changed = switch.stage(path, content)
        switch.commit()
    return changed


def write_tree(files: dict[str, bytes], tree: Path, *, remove: Iterable[str] = ()) -> list[str]:
    """Write ``files`` (relative path -> bytes) under ``tree`` as one switch, removing the
    ``remove`` paths no longer in it; returns the paths changed."""
    with Switch() as switch:
        changed = switch.stage_tree(files, tree, remove=remove)
        switch.commit()
    return changed


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
    """Delete what a killed write left in ``folder`` (recursively).

    Only files named as our temporaries are touched; a run lock keeps two writers of the
    same tree from running at once, so none of these is being written right now. A
    staging folder inside ``folder`` is another tree's (a team member's site inside the
    lab's), perhaps being written at this moment: it is left to that tree's writer.
    """
    removed = []
    try:
        for root, folders, names in os.walk(folder, onerror=_raise):
            folders[:] = [f for f in folders if not _STAGING.match(f)]
            for name in names:
                path = Path(root, name)
                if _TEMPORARY.match(name) and path.is_file() and not path.is_symlink():
                    path.unlink()
                    removed.append(path)
    except OSError as exc:
        raise PublishError(f"cannot clean up {folder}: {_one_line(exc)}") from None
    return sorted(removed)


def _raise(error: OSError) -> None:
    raise error


def _remove_leftovers_of(path: Path) -> None:
    """Temporaries of ``path`` itself that a killed write left next to it."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if _TEMPORARY.match(leftover.name) and leftover.is_file() and not leftover.is_symlink():
            leftover.unlink()


def _one_line(exc: OSError) -> str:
    """``Permission denied`` rather than ``[Errno 13] Permission denied: '/…/.x.k3j_x9a2.tmp'``:
    the caller names the file; the temporary's name would only confuse."""
    if exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
