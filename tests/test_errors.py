"""Error pages and JSON problems, translated, with a request id; bad input is never a 500."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import InternalServerError

from portal import create_app


def test_404_page_is_translated_and_has_request_id(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "es", "X-Request-ID": "req-12345678"})
    assert response.status_code == 404
    assert "Página no encontrada" in response.text
    assert "req-12345678" in response.text
    assert response.headers["X-Request-ID"] == "req-12345678"


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["request_id"]


def test_405_lists_allowed_methods(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_bogus_request_id_header_is_replaced(client):
    response = client.get("/login", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"


@pytest.fixture
def failing_app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.route("/api/boom")
    def api_boom():
        raise InternalServerError()

    return app


def test_unexpected_error_gives_500_page_with_request_id(failing_app, caplog):
    response = failing_app.test_client().get("/boom", headers={"Accept-Language": "de"})
    assert response.status_code == 500
    assert "Etwas ist schiefgelaufen" in response.text
    assert response.headers["X-Request-ID"] in response.text
    assert "kaboom" not in response.text
    assert any("kaboom" in (record.exc_text or "") or "kaboom" in str(record.exc_info) for record in caplog.records)


def test_api_500_is_json(failing_app):
    response = failing_app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "server_error"
