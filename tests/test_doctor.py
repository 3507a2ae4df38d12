"""``arxiv-digest doctor``: it says ok only when the next run would get what it needs."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer

from arxiv_digest import doctor
from arxiv_digest.config import Settings
from arxiv_digest.doctor import (
    check_arxiv,
    check_delivery,
    check_llm_api,
    check_llm_key,
    run_checks,
)
from tests.conftest import MakeSettings, fixture_bytes, serve_feed
from tests.fakes import TrickleServer
from tests.servers import free_port

CATS = "cs.AI+cs.CL+cs.LG"
FEED = "rss/cs.AI_2026-04-27_trimmed.xml"
ERROR_PAGE = b"<!DOCTYPE html><html><head><title>Oops</title></head><body>Down</body></html>"


def test_arxiv_is_ok_when_it_answers_with_a_feed_and_the_items_are_counted(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    body = fixture_bytes(FEED)
    serve_feed(httpserver, CATS, body)
    items = len(etree.fromstring(body).findall("channel/item"))
    ok, detail = check_arxiv(make_settings())
    assert ok, detail
    assert f"{items} items ({items} new), announced 2026-04-27" in detail


def test_arxiv_answering_with_an_html_page_is_a_failure(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    httpserver.expect_request(f"/rss/{CATS}").respond_with_data(
        ERROR_PAGE, content_type="text/html; charset=utf-8"
    )
    ok, detail = check_arxiv(make_settings())
    assert not ok
    assert "HTTP 200, but not with a feed" in detail and "HTML page" in detail


def test_an_arxiv_error_status_is_a_failure(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    httpserver.expect_request(f"/rss/{CATS}").respond_with_data("gone", status=404)
    ok, detail = check_arxiv(make_settings())
    assert not ok and "HTTP 404" in detail


def test_a_local_llm_server_needs_no_key(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCAL_LLM_KEY", raising=False)
    settings = make_settings(
        ai_summary={
            "enabled": True,
            "api_key_env": "LOCAL_LLM_KEY",
            "base_url": "http://localhost:11434/v1",
        }
    )
    assert check_llm_key(settings) == (True, "local server: no key needed")


def test_a_remote_llm_without_its_key_is_a_failure(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REMOTE_LLM_KEY", raising=False)
    settings = make_settings(ai_summary={"enabled": True, "api_key_env": "REMOTE_LLM_KEY"})
    ok, detail = check_llm_key(settings)
    assert not ok and detail.startswith("REMOTE_LLM_KEY is NOT set")
    monkeypatch.setenv("REMOTE_LLM_KEY", "sk-secret-value")
    ok, detail = check_llm_key(settings)
    assert ok and "sk-secret-value" not in detail


def test_every_check_passes_for_a_ready_setup(
    httpserver: HTTPServer, make_settings: MakeSettings
) -> None:
    serve_feed(httpserver, CATS, fixture_bytes(FEED))
    httpserver.expect_request("/v1/models").respond_with_json(MODELS)
    settings = make_settings(
        ai_summary={"enabled": True, "base_url": httpserver.url_for("/v1"), "model": "m-1"},
    )
    checks = run_checks(settings)
    assert {name: ok for name, (ok, _) in checks.items()} == {
        "config": True,
        "store": True,
        "arXiv": True,
        "LLM key": True,
        "LLM API": True,
        "Zotero key": True,
        "delivery": True,
    }


def test_delivery_names_the_unset_secrets_and_never_shows_a_value(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = "https://hooks.slack.com/services/T0/B0/secretpart"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", hook)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    chat = [{"type": "slack"}, {"type": "telegram", "chat_id": "-1001"}]
    ok, detail = check_delivery(make_settings(delivery={"chat": chat}))
    assert not ok and detail.startswith("telegram: TELEGRAM_BOT_TOKEN not set")
    assert hook not in detail and "secretpart" not in detail
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    ok, detail = check_delivery(make_settings(delivery={"chat": chat}))
    assert ok and "123:ABC" not in detail


# -- the LLM API answers, and says what it is ------------------------------------------------

KEY = "sk-doctor-secret-3b1f"
MODELS = {"object": "list", "data": [{"id": "m-1", "object": "model"}, {"id": "m-2"}]}


def llm_settings(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch, base_url: str, **ai: Any
) -> Settings:
    monkeypatch.setenv("DOCTOR_LLM_KEY", KEY)
    config = {"enabled": True, "api_key_env": "DOCTOR_LLM_KEY", "base_url": base_url, **ai}
    return make_settings(ai_summary=config)


def test_an_llm_url_where_nothing_listens_is_a_failure_naming_host_and_port(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    base_url = f"http://alice:hunter2@127.0.0.1:{port}/v1"
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, base_url))
    assert not ok
    assert detail == f"nothing answers at 127.0.0.1:{port}: Connection refused"
    assert "hunter2" not in detail and KEY not in detail


def test_an_openai_compatible_api_lists_its_models_and_gets_the_key(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(
        "/v1/models", headers={"Authorization": f"Bearer {KEY}"}
    ).respond_with_json(MODELS)
    base_url = httpserver.url_for("/v1")
    where = f"{httpserver.host}:{httpserver.port}"
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, base_url, model="m-2"))
    assert ok and detail == f"{where}: an OpenAI-compatible API, 2 models (m-2 among them)"
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, base_url, model="m-9"))
    assert ok and "(m-9 not among them)" in detail
    assert [request.method for request, _ in httpserver.log] == ["GET", "GET"]  # no LLM call


def test_a_web_page_at_the_llm_url_is_not_an_api(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data(
        ERROR_PAGE, content_type="text/html; charset=utf-8"
    )
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, httpserver.url_for("/v1")))
    assert not ok
    assert detail.endswith("answered HTTP 200 with text/html, not an OpenAI-compatible API"
                           " (base_url usually ends in /v1)")  # fmt: skip


@pytest.mark.parametrize(("status", "verdict"), [(401, "refused"), (500, "answered HTTP 500")])
def test_an_llm_api_error_is_a_failure_with_its_status(
    httpserver: HTTPServer,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    verdict: str,
) -> None:
    httpserver.expect_request("/v1/models").respond_with_json({"error": "no"}, status=status)
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, httpserver.url_for("/v1")))
    assert not ok and verdict in detail and f"HTTP {status}" in detail and KEY not in detail


def test_an_api_without_a_model_list_is_probed_with_an_empty_chat_request(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/v1/models").respond_with_data("not found", status=404)
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        {"error": {"message": "messages must not be empty", "type": "invalid_request_error"}},
        status=400,
    )
    ok, detail = check_llm_api(llm_settings(make_settings, monkeypatch, httpserver.url_for("/v1")))
    assert ok and "an OpenAI-compatible API (no model list" in detail
    probe = httpserver.log[-1][0]
    assert probe.get_json()["messages"] == []  # nothing for a model to answer, nothing billed


def test_a_url_answering_404_everywhere_is_not_an_api(
    httpserver: HTTPServer, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in ("/wrong/models", "/wrong/chat/completions"):
        httpserver.expect_request(path).respond_with_data(
            "<p>nope</p>", 404, content_type="text/html"
        )
    ok, detail = check_llm_api(
        llm_settings(make_settings, monkeypatch, httpserver.url_for("/wrong"))
    )
    assert not ok
    assert detail.endswith(
        "answered HTTP 404 for /models and HTTP 404 with text/html for /chat/completions: "
        "not an OpenAI-compatible API (base_url usually ends in /v1)"
    )


def test_an_llm_api_that_never_finishes_answering_is_a_failure(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor, "LLM_CHECK_TIMEOUT", 0.3)
    with TrickleServer() as server:
        settings = llm_settings(make_settings, monkeypatch, server.url("/v1"))
        ok, detail = check_llm_api(settings)
    assert not ok and detail.endswith("did not answer within 0.3 s")


def test_disabled_summaries_need_no_llm_api(make_settings: MakeSettings) -> None:
    assert check_llm_api(make_settings()) == (True, "AI summaries disabled")


def test_doctor_secrets_fails_offline_on_a_configured_key_the_environment_lacks(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow's last step: a key the config names but the repository lacks turns the
    job red, naming the variable; nothing is fetched (arXiv is a port where nothing listens)."""
    import json

    from typer.testing import CliRunner

    from arxiv_digest.cli import app

    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "categories": ["cs.AI"],
                "keywords": ["LLM"],
                "arxiv": {"rss_url": f"http://127.0.0.1:{free_port()}/rss"},
                "ai_summary": {
                    "enabled": True,
                    "api_key_env": "OPENAI_API_KEY",
                    "base_url": "https://api.openai.com/v1",
                    "model": "gpt-4o-mini",
                },
            }
        ),
        "utf-8",
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    missing = CliRunner().invoke(app, ["doctor", "--secrets", "--config", str(config)])
    assert missing.exit_code == 1
    assert "OPENAI_API_KEY is NOT set" in " ".join(missing.output.split())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a-real-looking-key")
    present = CliRunner().invoke(app, ["doctor", "--secrets", "--config", str(config)])
    assert present.exit_code == 0, present.output
    assert "sk-a-real-looking-key" not in present.output
