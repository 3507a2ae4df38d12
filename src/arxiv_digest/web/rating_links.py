"""``GET /rate/{arxiv_id}/{up|down|clear}?sig=...``: a rating from a signed link.

A GET, so that it works from a feed reader or an e-mail without a login; the HMAC signature
(:mod:`arxiv_digest.ratings`) is what makes it safe. A valid link records the rating (the
same one twice is the same state, so a prefetching mail scanner changes nothing) and answers
a small page with a signed undo link; anything else records nothing. ``HEAD`` (link
checkers) only says whether the link is valid.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from arxiv_digest.config import Settings
from arxiv_digest.errors import StoreError
from arxiv_digest.models import RATING_VALUES
from arxiv_digest.ratings import ACTIONS, SYMBOLS, sign, verify
from arxiv_digest.sources.text import split_arxiv_id
from arxiv_digest.store import Store

log = logging.getLogger(__name__)
_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("arxiv_digest", "templates/site"),
    autoescape=True,  # titles are untrusted text
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RatingLinks:
    """The endpoint, over the store and the signing secret (None: the route is a 404)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        secret: bytes | None,
        clock: Clock = _utc_now,
        *,
        profile: str = "",
    ) -> None:
        self.settings = settings
        self.store = store
        self.secret = secret
        self.clock = clock
        self.profile = profile  # whose ratings: a link signed for another is refused

    def respond(self, request: Request) -> Response:
        if self.secret is None:
            raise HTTPException(404)
        arxiv_id, action = self._target(str(request.path_params["target"]))
        root = "../" * (2 + arxiv_id.count("/"))
        signature = request.query_params.get("sig", "")
        if not verify(arxiv_id, action, signature, self.secret, self.profile):
            log.warning("refused a rating link with a bad signature for %s/%s", arxiv_id, action)
            return self._page(403, root, outcome="forbidden", paper_url="")
        if request.method == "HEAD":
            return Response(headers=HEADERS)
        try:
            paper = self.store.paper(arxiv_id)
            if action == "clear":
                self.store.clear_rating(arxiv_id)
            else:
                self.store.rate(arxiv_id, RATING_VALUES[action], "link", self.clock())
        except StoreError as exc:  # e.g. a read-only store (a serverless deployment)
            log.error("rating from a link not recorded: %s", exc)
            return self._page(503, root, outcome="unavailable", paper_url="")
        log.info("rating from a link: %s %s", arxiv_id, action)
        return self._page(
            200,
            root,
            outcome=action,
            name=paper.title if paper else arxiv_id,
            paper_url=f"{root}papers/{arxiv_id}" if paper else "",
            symbol=SYMBOLS.get(action, ""),
            undo=self._relative(arxiv_id, "clear"),
            again_up=self._relative(arxiv_id, "up"),
            again_down=self._relative(arxiv_id, "down"),
        )

    @staticmethod
    def _target(target: str) -> tuple[str, str]:
        """``2604.00001/up`` or ``hep-th/9901001/down``; only the versionless id is signed."""
        raw_id, _, action = target.rpartition("/")
        try:
            arxiv_id, version = split_arxiv_id(raw_id)
        except ValueError:
            raise HTTPException(404) from None
        if action not in ACTIONS or version or raw_id != arxiv_id:
            raise HTTPException(404)
        return arxiv_id, action

    def _relative(self, arxiv_id: str, action: str) -> str:
        """A link to another action from this page's URL (``/rate/{id}/{action}``)."""
        assert self.secret is not None
        return f"{action}?sig={sign(arxiv_id, action, self.secret, self.profile)}"

    def _page(self, status: int, root: str, **values: object) -> Response:
        body = _PAGES.get_template("rating.html.j2").render(
            root=root,
            site_title=self.settings.feeds.title,
            categories=self.settings.categories,
            page_title=f"Rating · {self.settings.feeds.title}",
            **values,
        )
        return HTMLResponse(body, status_code=status, headers=HEADERS)
