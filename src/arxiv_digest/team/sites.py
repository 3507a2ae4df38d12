"""A team's sites, rendered by the run and by worker processes beside it.

Every member's site is read from the store, rendered and written on its own (about 40 ms
each: a lab of 50 spends most of its run on them), so the sites are shared out between
the run's process and ``output.render_processes`` workers. Processes, not threads: the
rendering is pure Python and would hold one core. A worker is a new interpreter
(``python -c``: nothing of the run's threads, locks or database connections is inherited,
and no script that started the run is imported again), started with the run so that its
imports overlap the day's ingestion and ranking. It is given the sites (pickled, on its
stdin), then told each one whose run is recorded; it opens the store by its URL, claims
sites one at a time as the run's process does (:class:`_Claims`), writes each as the run
would (:func:`publish_sites`: each site switched whole, atomically) and answers each
site's failure on its stdout. A worker that fails, dies or hangs leaves its sites to the
run, which writes them itself: a broken worker costs time, never a site.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import make_url

from arxiv_digest.config import Settings
from arxiv_digest.errors import PublishError
from arxiv_digest.publish.incremental import publish_sites
from arxiv_digest.store import Store
from arxiv_digest.team.members import Member

__all__ = ["Share", "SiteWorkers", "worker_count"]

log = logging.getLogger(__name__)

MIN_SITES = 8  # fewer: a worker's start (its interpreter and imports) saves nothing
MAX_WORKERS = 4
WORKER_TIMEOUT = 600.0  # seconds a worker may take for its share before the run takes over
_START = "import sys; sys.path[:] = sys.argv[1:]; from arxiv_digest.team.sites import work; work()"


def _spare_cores() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)


def _shared_store(url: str) -> bool:
    """Whether another process opening ``url`` sees the run's store (not an in-memory
    SQLite database, which is its connection's own)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and parsed.query.get("mode") != "memory"


def worker_count(settings: Settings, sites: int) -> int:
    """How many worker processes render ``sites`` sites with the run: the configured
    number, or by default one per spare core (at most 4) from 8 sites on; none when
    another process cannot open the store."""
    if sites < 2 or not _shared_store(settings.store.url):
        return 0
    configured = settings.output.render_processes
    if configured is not None:
        return min(configured, sites - 1)
    return min(_spare_cores(), MAX_WORKERS) if sites >= MIN_SITES else 0


class _Claims:
    """Which process writes which site: the first to claim it (a file made in a folder
    of the run's, which only one process can create). Every process goes through the
    sites in the same order (the largest first), each taking the next one left when it
    is free: the shares even out however long each site takes, and the last sites
    taken are the quickest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def take(self, n: int) -> bool:
        try:
            os.close(os.open(self.folder / str(n), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def sites(
        self, store: Store, sites: Sequence[Member], taken: list[int], told: _Told | None = None
    ) -> Iterator[tuple[Store, Settings]]:
        """The sites this process claims, one at a time, as :func:`publish_sites` asks for
        the next (their numbers appended to ``taken``); in a worker, only sites whose
        runs the run has ``told`` it are recorded."""
        untried = list(range(len(sites)))
        while untried:
            n = untried[0] if told is None else told.first_ready(untried)
            untried.remove(n)
            if self.take(n):
                taken.append(n)
                yield sites[n].store(store), sites[n].settings


class _Told:
    """A worker's view of which sites' runs are recorded: the run tells it each number
    (then None: all of them) on its stdin."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.ready: set[int] = set()
        self.all = False

    def first_ready(self, untried: Sequence[int]) -> int:
        """The first of ``untried`` whose run is recorded; waits for the run's word while
        there is none."""
        while not self.all:
            for n in untried:
                if n in self.ready:
                    return n
            told: int | None = pickle.load(self.stream)
            if told is None:
                self.all = True
            else:
                self.ready.add(told)
        return untried[0]


def _publish_claimed(
    url: str, sites: Sequence[Member], claims: _Claims, told: _Told
) -> dict[int, str | None]:
    """In a worker: the sites it claims, written as :func:`publish_sites` writes them;
    each one's failure as its message (None: written), by site number."""
    taken: list[int] = []
    with Store(url) as store:
        outcomes = publish_sites(claims.sites(store, sites, taken, told))
    return {n: None if exc is None else str(exc) for n, exc in zip(taken, outcomes, strict=True)}


def work() -> None:
    """A worker: import what rendering needs, then wait for the sites (or for the end of
    its input: the run needed none)."""
    from arxiv_digest.publish import site  # noqa: F401  (templates, Markdown, feeds)

    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # on the run's stderr
    try:
        url, sites, folder = pickle.load(sys.stdin.buffer)
    except EOFError:
        return
    outcomes = _publish_claimed(url, sites, _Claims(folder), _Told(sys.stdin.buffer))
    pickle.dump(outcomes, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    os._exit(0)  # its sites are written and its store closed: no teardown to wait for


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _START, *sys.path],  # the run's import path, as it is
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def tell(self, message: object) -> None:
        """Send it ``message`` (pickled: a whole pickle needs no end of input)."""
        assert self.process.stdin is not None
        try:
            pickle.dump(message, self.process.stdin)
            self.process.stdin.flush()
        except OSError:  # it died: its answer says so
            pass

    def answer(self) -> dict[int, str | None]:
        """Its sites' outcomes; RuntimeError when it has none to give."""
        try:
            out, _ = self.process.communicate(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"no answer in {WORKER_TIMEOUT:.0f} s") from None
        if self.process.returncode != 0:
            raise RuntimeError(f"it exited with code {self.process.returncode}")
        try:
            outcomes: dict[int, str | None] = pickle.loads(out)
        except Exception as exc:
            raise RuntimeError(f"its answer could not be read: {exc}") from None
        return outcomes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


class Share:
    """Sites the workers write as the run records their runs (:meth:`ready`), and which
    the run joins in :meth:`finish`."""

    def __init__(self, store: Store, sites: Sequence[Member], workers: list[_Worker]) -> None:
        self.store, self.sites, self.workers = store, sites, workers
        self._numbers = {member.name: n for n, member in enumerate(sites)}
        self._folder: Path | None = None  # the claims, when there is a worker to share with
        if workers:
            self._folder = Path(tempfile.mkdtemp(prefix="arxiv-digest-sites-"))
        for worker in workers:
            worker.tell((store.url, list(sites), self._folder))

    def ready(self, member: Member) -> None:
        """``member``'s run is recorded: a worker may write their site."""
        n = self._numbers.get(member.name)
        if n is not None:
            for worker in self.workers:
                worker.tell(n)

    def finish(self) -> list[PublishError | None]:
        """Write the sites no worker has taken, then gather every site's failure (None:
        written), in order. What a worker took and did not answer for, the run writes."""
        if self._folder is None:  # the run alone: nothing to claim
            return publish_sites((m.store(self.store), m.settings) for m in self.sites)
        try:
            for worker in self.workers:
                worker.tell(None)  # every run is recorded by now
            taken: list[int] = []
            mine = publish_sites(_Claims(self._folder).sites(self.store, self.sites, taken))
            outcomes: dict[int, PublishError | None] = dict(zip(taken, mine, strict=True))
            for worker in self.workers:
                outcomes.update(self._answer_of(worker))
            left = [n for n in range(len(self.sites)) if n not in outcomes]
            if left:
                log.warning("%d sites left by the worker processes: the run writes them", len(left))
                again = publish_sites(
                    (self.sites[n].store(self.store), self.sites[n].settings) for n in left
                )
                outcomes.update(zip(left, again, strict=True))
            return [outcomes[n] for n in range(len(self.sites))]
        finally:
            self.close()

    @staticmethod
    def _answer_of(worker: _Worker) -> dict[int, PublishError | None]:
        try:
            answer = worker.answer()
        except RuntimeError as exc:
            log.warning("a worker process did not write its sites (%s)", exc)
            return {}
        return {n: None if text is None else PublishError(text) for n, text in answer.items()}

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


class SiteWorkers:
    """The worker processes of one team run (none: the run writes every site)."""

    def __init__(self, count: int) -> None:
        self._idle: list[_Worker] = []
        for _ in range(count):
            try:
                self._idle.append(_Worker())
            except OSError as exc:  # no interpreter to start: the run writes every site
                log.warning("no worker process for the sites (%s): the run writes them", exc)
                break
        self._shares: list[Share] = []

    @classmethod
    def for_team(cls, settings: Settings, public: Sequence[Member]) -> SiteWorkers:
        return cls(worker_count(settings, len(public)))

    def start(self, store: Store, sites: Sequence[Member]) -> Share:
        """Have the workers begin writing the sites of ``sites`` (their views of
        ``store``); the run joins them with :meth:`Share.finish`. Each worker is used once."""
        used = max(len(sites) - 1, 0)  # a worker for one site at most: the run takes one too
        workers, self._idle = self._idle[:used], self._idle[used:]
        share = Share(store, sites, workers)
        self._shares.append(share)
        return share

    def publish(self, store: Store, sites: Sequence[Member]) -> list[PublishError | None]:
        """Write the sites of ``sites``; returns each one's failure (None: written), in order."""
        return self.start(store, sites).finish()

    def close(self) -> None:
        """Stop every worker: those the run did not use, and any it left running."""
        for worker in self._idle:
            worker.stop()
        for share in self._shares:
            share.close()
        self._idle, self._shares = [], []

    def __enter__(self) -> SiteWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
