from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.labelling import annotation_record
from tests.factories import SentenceFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "target",
    "article",
    "sentence",
    "annotation",
    "annotationevent",
    "assignment",
    "modelversion",
    "suggestion",
    "adjudication",
]


@pytest.mark.parametrize("model", MODELS)
def test_the_admin_lists_every_model_with_search_and_filters(admin_client_, annotator, huawei, model):
    annotation_record(annotator=annotator, sentence=SentenceFactory(), target=huawei, label="pro")
    url = reverse(f"admin:annotate_{model}_changelist")
    response = admin_client_.get(url, {"q": "Huawei"})
    assert response.status_code == 200
    assert response.context["cl"].search_fields


def test_the_admin_is_closed_to_annotators(annotator_client):
    response = annotator_client.get(reverse("admin:annotate_annotation_changelist"))
    assert response.status_code == 302
