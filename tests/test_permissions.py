"""The permission matrix: every page and endpoint, for every role.

allowed: the role gets the page or its POST is processed (a 400 for the empty form counts:
the request got past the permission check); forbidden: 403; login: a redirect to the login
form (pages) or 401 (POST, API).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "annotator", "curator", "admin")
A, F, L = "allowed", "forbidden", "login"

# (name, method, URL arguments, expected for anonymous, annotator, curator, admin)
MATRIX = [
    ("home", "get", (), L, A, A, A),
    ("label", "get", ("target",), L, A, A, A),
    ("label-submit", "post", ("target",), L, A, F, F),  # only annotators label
    ("label-undo", "post", ("target",), L, A, F, F),
    ("my-labels", "get", ("target",), L, A, A, A),  # everyone's own labels
    ("my-label-change", "post", ("target", "own-annotation"), L, A, A, A),
    ("annotation-relabel", "post", ("own-annotation",), L, A, A, A),
    ("shortcuts-save", "post", (), L, A, A, A),
    ("target-list", "get", (), L, A, A, A),
    ("target-new", "get", (), L, F, F, A),
    ("target-new", "post", (), L, F, F, A),
    ("target-edit", "get", ("target",), L, F, F, A),
    ("target-edit", "post", ("target",), L, F, F, A),
    ("target-archive", "post", ("target",), L, F, F, A),
    ("article-list", "get", (), L, A, A, A),
    ("article-detail", "get", ("article",), L, A, A, A),
    ("adjudicate", "get", ("target",), L, F, A, A),
    ("adjudicate-settle", "post", ("target",), L, F, A, A),
    ("adjudicate-undo", "post", ("target",), L, F, A, A),
    ("adjudicate-example", "post", ("target",), L, F, A, A),
    ("dashboard", "get", ("target",), L, F, A, A),
    ("dashboard-summary", "get", ("target",), L, F, A, A),
    ("dashboard-recompute", "post", ("target",), L, F, A, A),
    ("models", "get", ("target",), L, F, A, A),
    ("model-retrain", "post", ("target",), L, F, F, A),
    ("model-activate", "post", ("target",), L, F, F, A),
    ("retrain-policy", "post", ("target",), L, F, F, A),
    ("queue-settings", "post", ("target",), L, F, F, A),
    ("export", "get", ("target",), L, F, F, A),
    ("export-card", "get", ("target",), L, F, F, A),
    ("export-form", "get", ("target",), L, F, F, A),
    ("api:target-list", "get", (), L, A, A, A),
    ("api:annotation-list", "get", (), L, A, A, A),
    ("api:sentence-list", "get", (), L, A, A, A),
    ("api:suggestion-list", "get", (), L, A, A, A),
    ("api:model-version-list", "get", (), L, F, A, A),
    ("api:target-agreement", "get", ("target",), L, F, A, A),
    ("api:export", "get", (), L, F, F, A),
    ("api:tokens", "post", (), L, F, F, A),
    ("api:import-task", "get", ("task",), L, F, F, A),
]

# Whose token POST /api/tokens/ hands out: an admin gets anyone's but a superuser's, for a
# token lets its holder act as its user. (username asked for, expected for admin, superuser)
TOKEN_MATRIX = [
    ("m-ann", A, A),
    ("m-adm", A, A),
    ("m-root", F, A),
]


@pytest.fixture
def world(huawei):
    for name in ("annotator", "curator", "admin"):
        Group.objects.get_or_create(name=name)
    users = {
        "annotator": UserFactory(username="m-ann", role="annotator"),
        "curator": UserFactory(username="m-cur", role="curator"),
        "admin": UserFactory(username="m-adm", role="admin", is_staff=True),
    }
    sentence = SentenceFactory()
    huawei.overlap = 3  # each role labels the one sentence
    huawei.save()
    own = {
        role: annotation_record(annotator=user, sentence=sentence, target=huawei, label="pro").annotation
        for role, user in users.items()
    }
    return users, own, sentence, huawei


def outcome(response, login_url: str) -> str:
    if response.status_code == 403:
        return F
    if response.status_code == 401:
        return L
    if response.status_code in (301, 302) and response["Location"].startswith(login_url):
        return L
    assert response.status_code < 500, response.content[:300]
    return A


@pytest.mark.parametrize("row", MATRIX, ids=[row[0] for row in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_endpoint_answers_each_role_as_the_matrix_says(world, row, role):
    users, own, sentence, target = world
    name, method, arguments, *expected = row
    values = {
        "target": target.id,
        "article": sentence.article_id,
        "own-annotation": own.get(role, own["annotator"]).id,
        "task": "00000000-0000-0000-0000-000000000000",  # an admin gets the 404 of no such task
    }
    url = reverse(name, args=[values[a] for a in arguments])
    if name == "api:suggestion-list":
        url += f"?sentence={sentence.id}"  # annotators read suggestions one sentence at a time
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(url) if method == "get" else client.post(url, {})
    assert outcome(response, reverse("login")) == expected[ROLES.index(role)]


@pytest.mark.parametrize("row", TOKEN_MATRIX, ids=[row[0] for row in TOKEN_MATRIX])
@pytest.mark.parametrize("role", ("admin", "superuser"))
def test_only_a_superuser_gets_a_superusers_token(world, row, role):
    users, *_ = world
    root = UserFactory(username="m-root", is_staff=True, is_superuser=True)
    username, *expected = row
    client = Client()
    client.force_login(root if role == "superuser" else users["admin"])
    response = client.post(reverse("api:tokens"), {"username": username}, content_type="application/json")
    assert outcome(response, reverse("login")) == expected[("admin", "superuser").index(role)]
    if response.status_code == 403:
        assert response.json() == {"detail": "Only a superuser may see or rotate a superuser's token."}
        assert not Token.objects.filter(user=root).exists()
    else:
        assert response.json()["token"] == Token.objects.get(user__username=username).key


def test_an_admin_who_is_not_a_superuser_cannot_reach_the_token_pages_of_the_django_admin(world):
    users, *_ = world
    root = UserFactory(username="m-root", is_staff=True, is_superuser=True)
    Token.objects.create(user=root)
    client = Client()
    client.force_login(users["admin"])
    assert client.get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 403
    assert client.get(reverse("admin:authtoken_tokenproxy_change", args=[root.pk])).status_code == 403
    assert client.get(reverse("admin:authtoken_tokenproxy_add")).status_code == 403


def test_an_annotator_cannot_relabel_another_annotators_label(world):
    users, own, _, _ = world
    client = Client()
    client.force_login(users["annotator"])
    response = client.post(reverse("annotation-relabel", args=[own["curator"].id]), {"label": "contra"})
    assert response.status_code == 403
    own["curator"].refresh_from_db()
    assert own["curator"].label == "pro"


# Django's {# #} comment is one line only: a multi-line one is printed as page text.
PAGES = [
    (row, role)
    for row in MATRIX
    for role in ROLES
    if row[1] == "get" and not row[0].startswith("api:") and row[3 + ROLES.index(role)] == A
]


@pytest.mark.parametrize(("row", "role"), PAGES, ids=[f"{row[0]}-{role}" for row, role in PAGES])
def test_no_page_shows_template_comment_markers(world, row, role):
    users, _, sentence, target = world
    name, _, arguments, *_ = row
    values = {"target": target.id, "article": sentence.article_id}
    client = Client()
    client.force_login(users[role])
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(reverse(name, args=[values[a] for a in arguments]), follow=True, **headers)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        assert "{#" not in html and "#}" not in html, (name, headers)


def test_the_login_page_shows_no_template_comment_markers(db):
    html = Client().get(reverse("login")).content.decode()
    assert "{#" not in html and "#}" not in html


def test_no_template_has_a_comment_that_spans_lines():
    for template in sorted(Path(settings.TEMPLATES[0]["DIRS"][0]).rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            assert "{#" not in line or "#}" in line, f"{template}:{number}: use {{% comment %}}"
