"""ui/client.py: typed results for every route, and one clear ApiError for everything that goes wrong."""

from __future__ import annotations

import httpx
import pytest

from ui.client import ApiClient, ApiError

FAKE_URL = "http://fake-kb.test"


def test_every_route_parses_into_its_shape(fake_client: ApiClient):
    assert fake_client.health().model["dimension"] == 384
    assert [h.file for h in fake_client.search("sqs", k=2).results] == ["aws-developer-notes.md"] * 2
    answer = fake_client.ask("How long are messages kept in SQS?")
    assert answer.citations[0].start_line == 1261 and not answer.abstained
    assert {s.id for s in fake_client.services()} >= {"sqs", "sns", "kinesis-data-streams"}
    detail = fake_client.service("sqs")
    assert detail.service.name == "SQS" and [f.file for f in detail.files] == ["aws-architect-notes.md", "aws-developer-notes.md"]
    context = fake_client.passage("3f9a2c1d0b7e4a11", context=2)
    assert context.after == ["", "delay queue - by default or using message parameter(DelaySeconds)"]
    table = fake_client.compare(["sqs", "sns"])
    assert table.aspects == ["Model", "Retention", "Ordering"]


def test_requests_carry_the_documented_parameters(fake_api, fake_client: ApiClient):
    fake_client.search("visibility timeout", k=3, service="sqs")
    fake_client.ask("q", k=4, service="sns")
    fake_client.compare(["sqs", "sns"], ["Retention"])
    fake_client.passage("a/b c", context=5)
    search, ask, compare, passage = fake_api.requests
    assert dict(search.url.params) == {"q": "visibility timeout", "k": "3", "service": "sqs"}
    assert ask.read() == b'{"question":"q","k":4,"service":"sns"}'
    assert compare.read() == b'{"services":["sqs","sns"],"aspects":["Retention"]}'
    assert passage.url.raw_path == b"/passages/a%2Fb%20c?context=5"  # an id never becomes a path


def test_export_returns_the_api_rendering_of_the_table(fake_api, fake_client: ApiClient):
    from kb.compare.export import to_csv, to_markdown

    table = fake_client.compare(["sqs", "sns"])
    assert fake_client.export(["sqs", "sns"], format="md") == to_markdown(table)
    assert fake_client.export(["sqs", "sns"], ["Retention"], format="csv") == to_csv(table)
    markdown, csv = fake_api.calls("GET", "/compare/export")
    assert markdown.url.params.multi_items() == [("services", "sqs"), ("services", "sns"), ("format", "md")]
    assert csv.url.params.multi_items() == [("services", "sqs"), ("services", "sns"), ("format", "csv"), ("aspects", "Retention")]


def test_export_of_an_unknown_service_is_an_api_error(fake_client: ApiClient):
    with pytest.raises(ApiError) as caught:
        fake_client.export(["sqs", "nope"])
    assert caught.value.status == 404


def test_connection_refused_names_the_url(closed_port_url: str):
    with ApiClient(closed_port_url) as client, pytest.raises(ApiError) as caught:
        client.health()
    error = caught.value
    assert error.status is None and error.url == f"{closed_port_url}/health"
    assert closed_port_url in error.message and "kb serve" in error.message
    assert closed_port_url in str(error)


def test_a_slow_api_is_a_timeout_error(make_client):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ApiError, match="did not answer in time") as caught:
        make_client(slow).ask("q")
    assert caught.value.url == f"{FAKE_URL}/ask"


def test_an_error_body_becomes_the_message_with_status_and_suggestions(fake_client: ApiClient):
    with pytest.raises(ApiError) as caught:
        fake_client.service("sqss")
    error = caught.value
    assert (error.status, error.error, error.suggestions) == (404, "UnknownService", ["sqs", "sns"])
    assert error.message == "Unknown service 'sqss'"
    assert str(error) == f"Unknown service 'sqss' (HTTP 404 from {FAKE_URL}/services/sqss)"


def test_validation_errors_are_joined_into_one_message(make_client):
    def invalid(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": [{"loc": ["body", "question"], "msg": "Field required", "type": "missing"}]})

    with pytest.raises(ApiError) as caught:
        make_client(invalid).ask("q")
    assert caught.value.message == "question: Field required" and caught.value.status == 422


def test_a_non_json_error_keeps_its_status(make_client):
    with pytest.raises(ApiError) as caught:
        make_client(lambda r: httpx.Response(502, text="Bad Gateway from proxy")).health()
    assert caught.value.status == 502 and "Bad Gateway from proxy" in caught.value.message


def test_an_answer_in_an_unknown_shape_is_an_api_error(make_client):
    with pytest.raises(ApiError, match="shape"):
        make_client(lambda r: httpx.Response(200, json={"question": "q"})).ask("q")
    with pytest.raises(ApiError, match="not JSON"):
        make_client(lambda r: httpx.Response(200, text="<html>")).health()


def test_an_api_key_is_sent_as_x_api_key():
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-api-key"))
        return httpx.Response(401, json={"detail": "A valid API key is required.", "error": "Unauthorized"})

    with pytest.raises(ApiError, match="valid API key") as caught:
        ApiClient(FAKE_URL, api_key="s3cret", transport=httpx.MockTransport(record)).services()
    assert seen == ["s3cret"] and caught.value.status == 401
