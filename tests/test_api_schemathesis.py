"""Schemathesis against the API, in process through Django's WSGI app.

Requests generated from the OpenAPI schema, valid and invalid, as an admin and as an
annotator (token authentication), each checked by schemathesis's default checks: no 5xx;
status codes, content types, headers and bodies as the schema describes them; invalid
input rejected and valid input accepted.

Bounded and repeatable for CI: a fixed seed, derandomized Hypothesis, MAX_EXAMPLES
generated requests per operation and user, a few hundred in all. SCHEMATHESIS_COVERAGE=1
adds schemathesis's coverage phase (every boundary and type of every parameter, some
1,700 more requests) for a deeper run by hand.
"""

from __future__ import annotations

import json
import os
import time

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from annotate.models import Label
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory, api_token

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 8
SEED = 20251125
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"

RUN = {"requests": 0, "seconds": 0.0}


def _schema() -> schemathesis.BaseSchema:
    """The schema the code generates: what /api/schema/ serves and docs/openapi.yaml holds."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    # A cursor is an opaque token the API hands out in `next`; any other string is rightly a
    # 400, which schemathesis would count as a valid request refused. Cursors are tested by
    # following `next` (tests/test_api.py, tests/test_api_reviews.py), so they are left out here.
    for path in document["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "cursor"]
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"coverage": {"enabled": COVERAGE}},
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture(autouse=True)
def wsgi_on_the_test_database(settings):
    """As Django's test client does: the request signals must not close the connection the
    test's transaction lives on. The WSGI client sends Host: localhost."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def run_summary(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and RUN["requests"]:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {RUN['requests']} requests in {RUN['seconds']:.1f} s (seed {SEED})"
            )


@pytest.fixture(params=["admin", "annotator"])
def token(request, huawei) -> str:
    """A user's token, and data behind every endpoint: labels that disagree, an active model.

    The users have no password: hashing one costs more than the requests of a test.
    """
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(6)]
    ann = UserFactory(username="ann", role="annotator", password=None)
    bob = UserFactory(username="bob", role="annotator", password=None)
    for i, sentence in enumerate(sentences[:4]):
        annotation_record(annotator=ann, sentence=sentence, target=huawei, label=Label.PRO)
        annotation_record(
            annotator=bob, sentence=sentence, target=huawei, label=[Label.PRO, Label.CONTRA][i % 2]
        )
        SuggestionFactory(sentence=sentence, target=huawei, label=Label.PRO)
    if request.param == "admin":
        return api_token(UserFactory(username="boss", role="admin", is_superuser=True, password=None))
    return api_token(ann)


@schema.parametrize()
# The data is meant to outlive single requests: a label one generated request makes is
# there for the next, as for a real client.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_the_api_answers_generated_requests_as_its_schema_says(case, token):
    started = time.monotonic()
    try:
        case.call_and_validate(headers={"Authorization": f"Token {token}"})
    finally:
        RUN["requests"] += 1
        RUN["seconds"] += time.monotonic() - started
