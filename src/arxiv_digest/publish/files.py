"""Writing output files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from arxiv_digest.errors import PublishError


def write_atomic(path: Path, content: str | bytes) -> bool:
    """Write via a temporary file in the same folder, then rename over the target.

    Returns False (and writes nothing) when the file already holds exactly this content.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp = Path(tmp_name)
            tmp.chmod(path.stat().st_mode & 0o777 if path.exists() else 0o644)
            tmp.replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp_name).unlink()
            raise
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc}") from None
    return True
