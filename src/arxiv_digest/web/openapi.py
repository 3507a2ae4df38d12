"""The OpenAPI 3.1 document of ``/api/v1/``, generated from the models that shape its answers.

:data:`OPERATIONS` lists every route with its parameters, its answer's model and its
errors; :mod:`arxiv_digest.web.api` serves exactly these routes, and the tests call each
one and check its answer against the schema given here. The schemas come from the pydantic
models of :mod:`arxiv_digest.api.models` (JSON Schema 2020-12, which OpenAPI 3.1 uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from arxiv_digest import __version__, ids
from arxiv_digest.api.models import (
    API_MODELS,
    DigestDay,
    DigestList,
    ErrorBody,
    PaperDetail,
    RatingBody,
    RatingCleared,
    RatingList,
    RatingOut,
    SearchResults,
)
from arxiv_digest.api.tokens import API_TOKEN_ENV
from arxiv_digest.store.search import MAX_LIMIT, RATED, SORTS

__all__ = ["OPERATIONS", "Operation", "Parameter", "openapi_document"]

REF = "#/components/schemas/{model}"
ERRORS = {
    400: "A parameter that does not make sense (`parameter` names it).",
    401: "No write token (`Authorization: Bearer …`).",
    403: "A wrong write token.",
    404: "No such thing.",
    503: "The store cannot be read right now.",
}
WRITES_OFF = f"Not found, or writes are off: {API_TOKEN_ENV} is not set (`writes_disabled`)."
ARXIV_ID = f"^{ids.ARXIV_ID}(?:{ids.VERSION})?$"  # ECMA-262 as JSON Schema wants


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: str  # query | path
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # get | put | delete
    path: str  # below /api/v1
    summary: str
    response: type[BaseModel] | None  # None: the document itself
    parameters: tuple[Parameter, ...] = ()
    errors: tuple[int, ...] = (400,)
    body: type[BaseModel] | None = None
    write: bool = False  # needs the write token
    tags: tuple[str, ...] = field(default=())


def _integer(low: int, high: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


PAGE = Parameter("page", "query", _integer(1, 2000, 1), "The page, from 1.")
DIGEST_LIMIT = Parameter("limit", "query", _integer(1, 100, 30), "Digests a page.")
ID = Parameter(
    "arxiv_id",
    "path",
    {"type": "string", "pattern": ARXIV_ID},
    "An arXiv id, e.g. 2411.17712 (any version: 2411.17712v2); old-style ids keep their "
    "slash, hep-th/9901001.",
    required=True,
)
SEARCH = (
    Parameter("q", "query", {"type": "string", "minLength": 1}, "The query.", required=True),
    Parameter("category", "query", {"type": "string"}, "cs.LG (primary or cross-list), or cs."),
    Parameter("from", "query", {"type": "string", "format": "date"}, "First day, inclusive."),
    Parameter("to", "query", {"type": "string", "format": "date"}, "Last day, inclusive."),
    Parameter("shown", "query", {"enum": ["yes", "no"]}, "Listed in a digest, or never."),
    Parameter("rated", "query", {"enum": list(RATED)}, "The reader's rating."),
    Parameter("sort", "query", {"enum": list(SORTS), "default": "relevance"}, "The order."),
    PAGE,
    Parameter("limit", "query", _integer(1, MAX_LIMIT, 20), "Results a page."),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/digests", "Published digests, newest first", DigestList,
              (PAGE, DIGEST_LIMIT), tags=("digests",)),
    Operation("get", "/digests/{date}", "One digest's papers, in rank order", DigestDay,
              (Parameter("date", "path", {"type": "string", "format": "date"},
                         "The digest's day, YYYY-MM-DD.", required=True),),
              errors=(400, 404), tags=("digests",)),
    Operation("get", "/papers/{arxiv_id}",
              "A stored paper: metadata, abstract, summary, digests, rating", PaperDetail,
              (ID,), errors=(400, 404), tags=("papers",)),
    Operation("get", "/search", "Full-text search over every stored paper (as /search.json)",
              SearchResults, SEARCH, errors=(400, 503), tags=("papers",)),
    Operation("get", "/ratings", "Every rating, newest first", RatingList,
              errors=(401, 403, 404), write=True, tags=("ratings",)),
    Operation("put", "/ratings/{arxiv_id}", "Rate a paper (every version) up or down",
              RatingOut, (ID,), errors=(400, 401, 403, 404), body=RatingBody, write=True,
              tags=("ratings",)),
    Operation("delete", "/ratings/{arxiv_id}", "Forget a paper's rating", RatingCleared,
              (ID,), errors=(400, 401, 403, 404), write=True, tags=("ratings",)),
    Operation("get", "/openapi.json", "This document", None, errors=(), tags=("meta",)),
)  # fmt: skip


def _schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "serialization") for model in API_MODELS], ref_template=REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation_id(op: Operation) -> str:
    """``get /digests/{date}`` -> ``get_digests_date``."""
    words = "".join(c if c.isalnum() else " " for c in op.path).split()
    return "_".join([op.method, *words])


def _operation(op: Operation) -> dict[str, Any]:
    answer = _ref(op.response) if op.response else {"type": "object"}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": _json(answer)}}
    if op.method == "get":
        responses["304"] = {"description": "Not modified: the If-None-Match ETag is current."}
    for status in op.errors:
        text = WRITES_OFF if status == 404 and op.write else ERRORS[status]
        responses[str(status)] = {"description": text, "content": _json(_ref(ErrorBody))}
    result: dict[str, Any] = {
        "operationId": _operation_id(op),
        "summary": op.summary,
        "tags": list(op.tags),
        "responses": responses,
    }
    if op.parameters:
        result["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.parameters
        ]
    if op.body is not None:
        result["requestBody"] = {"required": True, "content": _json(_ref(op.body))}
    if op.write:
        result["security"] = [{"bearer": []}]
    return result


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "arxiv-digest API",
            "version": __version__,
            "description": "The digests, papers, search and ratings of one arxiv-digest "
            "store. Reading is open; ratings need `Authorization: Bearer "
            f'${API_TOKEN_ENV}`. Errors are `{{"error": code, "message": ..., '
            '"parameter": ...}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
