"""``/api/v1/``: the digests, papers, search and ratings as JSON, described by OpenAPI 3.1.

Routes (see :data:`arxiv_digest.web.openapi.OPERATIONS`, which documents each one):
``digests``, ``digests/{date}``, ``papers/{arxiv_id}``, ``search``, ``ratings`` and
``ratings/{arxiv_id}`` (PUT, DELETE), ``openapi.json``. Reading is open; ``ratings`` needs
the write token (:mod:`arxiv_digest.api.tokens`): 401 without one, 403 with a wrong one, 404
while no token is configured. Every error is ``{"error": code, "message": ..., "parameter":
...}`` with a stable code; every GET answer carries an ETag (``If-None-Match`` gets 304).
CORS headers only for the origins ``api.cors_origins`` lists.

The routes are relative, one table for one reader, so that when team profiles come each
profile's table can be mounted under ``/api/v1/profiles/{profile}/`` beside this one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from arxiv_digest.api import params
from arxiv_digest.api.models import ErrorBody, RatingBody
from arxiv_digest.api.reader import Reader
from arxiv_digest.api.tokens import API_TOKEN_ENV, Access, access
from arxiv_digest.config import Settings
from arxiv_digest.errors import StoreError
from arxiv_digest.store import Store
from arxiv_digest.web.openapi import openapi_document

__all__ = ["ApiError", "JsonApi"]

log = logging.getLogger(__name__)
PUBLIC = {"Cache-Control": "no-cache"}  # revalidate: a rating changes a digest's answer
PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}
SEARCH = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}  # as /search.json
WRITTEN = {"Cache-Control": "no-store"}
MAX_BODY = 4096
CODES = {404: "not_found", 405: "method_not_allowed"}

Handler = Callable[[Request, Any], BaseModel]


class ApiError(Exception):
    """An answer other than 200, with its stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody.model_validate(
            {"error": code, "message": message, "parameter": parameter}
        )
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse(
            self.body.model_dump(mode="json"),
            self.status,
            headers={**WRITTEN, **self.headers},
        )


def _dump(model: BaseModel) -> bytes:
    data = model.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _answer(request: Request, body: bytes, headers: dict[str, str]) -> Response:
    """200 with an ETag of the body, or 304 when the client holds that body already."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {**headers, "ETag": etag}
    wanted = request.headers.get("if-none-match")
    if request.method in ("GET", "HEAD") and wanted is not None:
        tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
        if etag in tags or wanted.strip() == "*":
            return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")


class JsonApi:
    """The ``/api/v1`` app over one store."""

    def __init__(self, settings: Settings, store: Store, *, token: str | None) -> None:
        self.settings = settings
        self.reader = Reader(settings, store)
        self.token = token
        self.document = json.dumps(openapi_document(), ensure_ascii=False).encode("utf-8")

    def app(self) -> ASGIApp:
        app: ASGIApp = Starlette(
            routes=self.routes(),
            exception_handlers={HTTPException: _http_error, Exception: _server_error},
        )
        origins = self.settings.api.cors_origins
        if origins:
            app = CORSMiddleware(
                app,
                allow_origins=origins,
                allow_methods=["GET", "PUT", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "If-None-Match"],
                expose_headers=["ETag"],
                max_age=600,
            )
        return app

    def routes(self) -> list[Route]:
        get = self._endpoint
        return [
            Route("/digests", get(self.digests, PUBLIC)),
            Route("/digests/{date}", get(self.digest, PUBLIC)),
            Route("/papers/{arxiv_id:path}", get(self.paper, PUBLIC)),
            Route("/search", get(self.search, SEARCH)),
            Route("/ratings", get(self.ratings, PRIVATE, write=True)),
            Route(
                "/ratings/{arxiv_id:path}",
                get(self.rate, WRITTEN, write=True, body=True),
                methods=["PUT", "DELETE"],
            ),
            Route("/openapi.json", self.openapi),
        ]

    def _endpoint(
        self, handler: Handler, headers: dict[str, str], *, write: bool = False, body: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                if write:
                    self._authorize(request)
                given = await _read_body(request) if body and request.method == "PUT" else None
                model = await run_in_threadpool(handler, request, given)
            except ApiError as exc:
                return exc.response()
            except params.BadParameter as exc:
                return ApiError(400, "bad_parameter", str(exc), exc.parameter).response()
            except StoreError as exc:
                log.error("api: %s", exc)
                return ApiError(503, "unavailable", "the store cannot be read now").response()
            return _answer(request, _dump(model), headers)

        return endpoint

    def _authorize(self, request: Request) -> None:
        verdict = access(request.headers.get("authorization"), self.token)
        if verdict is Access.OFF:
            message = f"writes are off: set {API_TOKEN_ENV} on the server to turn them on"
            raise ApiError(404, "writes_disabled", message)
        if verdict is Access.MISSING:
            raise ApiError(
                401,
                "unauthorized",
                "send the write token: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if verdict is Access.WRONG:
            raise ApiError(403, "forbidden", "the write token is wrong")

    # the routes

    def digests(self, request: Request, _: Any) -> BaseModel:
        query = request.query_params
        limit = params.number(query.get("limit"), "limit", 30, high=100)
        page = params.number(query.get("page"), "page", 1, high=2000)
        return self.reader.digests(page=page, limit=limit)

    def digest(self, request: Request, _: Any) -> BaseModel:
        day = params.day(str(request.path_params["date"]), "date")
        found = self.reader.digest(day)
        if found is None:
            raise ApiError(404, "not_found", f"no digest was published for {day}")
        return found

    def paper(self, request: Request, _: Any) -> BaseModel:
        arxiv_id, version = params.arxiv_id(str(request.path_params["arxiv_id"]))
        found = self.reader.paper(arxiv_id, version)
        if found is None:
            name = f"{arxiv_id}v{version}" if version else arxiv_id
            raise ApiError(404, "not_found", f"{name} is not in the store")
        return found

    def search(self, request: Request, _: Any) -> BaseModel:
        return self.reader.search(request.query_params)

    def ratings(self, request: Request, _: Any) -> BaseModel:
        return self.reader.ratings()

    def rate(self, request: Request, given: Any) -> BaseModel:
        arxiv_id, _ = params.arxiv_id(str(request.path_params["arxiv_id"]))
        if request.method == "DELETE":
            return self.reader.rate(arxiv_id, "clear", "api")
        try:
            wanted = RatingBody.model_validate(given)
        except ValidationError:
            raise params.BadParameter(
                "rating", 'the body is {"rating": "up"} or {"rating": "down"}'
            ) from None
        return self.reader.rate(arxiv_id, wanted.rating, "api")

    async def openapi(self, request: Request) -> Response:
        return _answer(request, self.document, PUBLIC)


async def _read_body(request: Request) -> Any:
    """The JSON body, at most ``MAX_BODY`` bytes (read no further)."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise params.BadParameter("rating", f"the body is at most {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise params.BadParameter(
            "rating", 'the body is JSON: {"rating": "up"} or {"rating": "down"}'
        ) from None


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    code = CODES.get(status, "not_found")
    message = "no such route" if status == 404 else f"{request.method} is not allowed here"
    return ApiError(status, code, message, headers=headers).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("api: error serving %s", request.url.path, exc_info=exc)
    return ApiError(500, "internal", "internal server error").response()
