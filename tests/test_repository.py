"""The repository stands alone: a plain clone has every file its tests and benchmarks read."""

from __future__ import annotations

import re

from tests.conftest import FIXTURES, REPO

# Ways a path can leave the repository: the sibling folder of the project's team, or
# climbing above the repository root from a file two levels down. Benchmarks may be *given*
# a file from anywhere (bench/relevance.py PATH) but never reach for one on their own.
OUTSIDE = {
    "tests": re.compile(r"""\.\./shared|["']shared["']|parents\[[2-9]\]"""),
    "bench": re.compile(r"""["']shared["']|parents\[[2-9]\]"""),
}


def test_no_test_or_benchmark_reads_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder, outside in OUTSIDE.items()
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.name != "test_repository.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert offenders == []


def test_the_fixtures_live_in_the_repository_with_their_provenance() -> None:
    assert FIXTURES.is_relative_to(REPO)
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    data = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.xml"))
    assert data, "the arXiv fixtures are committed"
    undocumented = [
        name
        for name in data
        if f"`{name}`" not in sources and f"`{name.split('/', 1)[1]}`" not in sources
    ]
    assert undocumented == []
