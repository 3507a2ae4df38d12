"""``arxiv-digest doctor``: it says ok only when the next run would get what it needs."""

from __future__ import annotations

import pytest
from lxml import etree
from pytest_httpserver import HTTPServer

from arxiv_digest.doctor import check_arxiv, check_delivery, check_llm_key, run_checks
from tests.conftest import MakeSettings, fixture_bytes, serve_feed

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
    settings = make_settings(
        ai_summary={"enabled": True, "base_url": "http://127.0.0.1:8080/v1"},
    )
    checks = run_checks(settings)
    assert {name: ok for name, (ok, _) in checks.items()} == {
        "config": True,
        "store": True,
        "arXiv": True,
        "LLM key": True,
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
