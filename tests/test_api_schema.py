from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory, api_token

pytestmark = pytest.mark.django_db

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"


def test_the_committed_schema_is_what_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml is out of step with the code: "
        "run `DEBUG=1 python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_every_operation_documents_its_errors_as_json():
    schema = yaml.safe_load(COMMITTED.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("401", "403", "404"):
                content = operation["responses"][code]["content"]
                assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}, (
                    method,
                    path,
                    code,
                )


@pytest.fixture
def token_client(db) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(UserFactory(password=None))}")
    return client


def test_the_schema_is_served_as_yaml_to_an_authenticated_client(token_client):
    response = token_client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert yaml.safe_load(response.content) == yaml.safe_load(COMMITTED.read_text())


def test_the_schema_is_served_as_json_on_request(token_client):
    response = token_client.get("/api/schema/?format=json")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    assert response.json()["info"]["title"] == "Stance API"


def test_the_schema_needs_authentication():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_swagger_ui_sends_a_stranger_to_the_login_form():
    response = Client().get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"


def test_swagger_ui_comes_from_the_bundled_files_not_a_cdn():
    client = Client()
    client.force_login(UserFactory(password=None))
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html and "//cdn" not in html
    # The start-up script is served from the page's own URL, so the CSP keeps script-src 'self'.
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b'"/api/schema/"' in script.content
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
