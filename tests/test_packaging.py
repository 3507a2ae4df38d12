"""A non-editable install (GitHub Actions, Docker, Vercel) must carry every data file."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib

from tests.conftest import REPO

PACKAGE = REPO / "src" / "arxiv_digest"


def test_every_template_and_data_file_is_declared_as_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["arxiv_digest"]
    data_files = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert data_files, "the package ships templates and a sample day"
    # setuptools matches a pattern per directory level: "templates/*" is not recursive
    missing = [
        f
        for f in data_files
        if not any(fnmatch.fnmatch(f, p) and f.count("/") == p.count("/") for p in patterns)
    ]
    assert missing == []


def test_starting_the_service_loads_no_scikit_learn_or_scipy() -> None:
    """About 90 MB that ``serve`` need not carry: they load when a run ranks by a library."""
    code = (
        "import sys, arxiv_digest.cli, arxiv_digest.web.app, arxiv_digest.pipeline; "
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
