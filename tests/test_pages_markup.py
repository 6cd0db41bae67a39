"""No template syntax leaks into the pages (a `{# … #}` comment spanning lines is shown as text)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import Adjudication, Target
from annotate.queue.record import annotation_record
from annotate.tasks import retrain_target
from tests.factories import ArticleFactory, ModelVersionFactory, SentenceFactory

pytestmark = pytest.mark.django_db

MARKERS = ("{#", "#}", "{%", "%}", "{{", "}}")


@pytest.fixture
def pages(huawei, annotator, other_annotator, admin_user):
    article = ArticleFactory(source="", url="")
    first, second, third = (SentenceFactory(article=article, position=i) for i in range(3))
    annotation_record(annotator=annotator, sentence=first, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=first, target=huawei, label="contra")
    annotation_record(annotator=annotator, sentence=second, target=huawei, label="skip")
    Adjudication.objects.create(sentence=third, target=huawei, label="neutral", curator=admin_user)
    version = ModelVersionFactory(target=huawei, metrics={"accuracy": 0.5, "confusion": [[1, 0], [0, 1]]})
    Target.objects.filter(pk=huawei.pk).update(active_version=version)
    retrain_target.enqueue(huawei.pk)
    t = huawei.pk
    return [
        reverse("dashboard", args=[t]),
        reverse("models", args=[t]),
        reverse("adjudicate", args=[t]),
        reverse("article-list"),
        reverse("article-detail", args=[article.pk]),
        "/no/such/page/",
    ]


def test_no_page_shows_template_syntax(admin_client_, annotator_client, pages, huawei):
    responses = [admin_client_.get(url) for url in pages]
    responses.append(annotator_client.get(reverse("dashboard", args=[huawei.pk])))  # the 403 page
    responses.append(admin_client_.get(reverse("models", args=[huawei.pk]), HTTP_HX_REQUEST="true"))
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 404, 403, 200]
    for response in responses:
        html = response.content.decode()
        assert not [m for m in MARKERS if m in html], response.wsgi_request.path
