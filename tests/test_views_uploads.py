"""The import pages (/uploads/): admins only, CSRF, preview, confirm, background progress."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from annotate.models import Annotation, Article, Sentence, Upload, UploadFile
from tests.factories import TargetFactory, UserFactory
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db

NEWS = "".join(
    json.dumps({"title": f"Story {n}", "body": f"Huawei story {n} opens. It goes on."}) + "\n"
    for n in range(3)
).encode()


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=role, role=role, is_staff=role == "admin"))
    return client


def post_articles(client: Client, name: str = "news.jsonl", data: bytes = NEWS, **fields: str):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    values = {"unit": "sentence", "source": "", "licence": "", **fields}
    return client.post(reverse("upload-articles"), {"article_files": [upload], **values})


def post_labels(client: Client, target, data: bytes, name: str = "labels.csv", **fields: str):
    upload = SimpleUploadedFile(name, data)
    values = {"target": target.pk, "annotator": "semeval", "label_map": "", **fields}
    return client.post(reverse("upload-labels"), {"file": upload, **values})


@pytest.mark.parametrize("role", ["annotator", "curator"])
def test_annotators_and_curators_are_refused_every_import_page(role, huawei):
    client = client_for(role)
    upload = Upload.objects.create(kind="articles", total=1)
    assert client.get(reverse("upload-page")).status_code == 403
    assert client.get(reverse("upload-detail", args=[upload.pk])).status_code == 403
    assert post_articles(client).status_code == 403
    assert post_labels(client, huawei, b"text,label\nA.,pro\n").status_code == 403
    assert client.post(reverse("upload-confirm", args=[upload.pk])).status_code == 403
    assert Upload.objects.count() == 1 and Article.objects.count() == 0


def test_the_import_link_is_in_the_navigation_for_admins_only(huawei):
    assert reverse("upload-page") in client_for("admin").get(reverse("target-list")).content.decode()
    assert reverse("upload-page") not in client_for("curator").get(reverse("target-list")).content.decode()


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert post_articles(client).status_code == 403
    assert Upload.objects.count() == 0


def test_the_confirm_button_takes_a_post_only(admin_client_):
    upload = Upload.objects.create(kind="articles")
    assert admin_client_.get(reverse("upload-confirm", args=[upload.pk])).status_code == 405


def test_an_admin_uploads_previews_and_confirms_articles(admin_client_):
    response = post_articles(admin_client_, licence="CC-BY-4.0", source="Wire")
    upload = Upload.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("upload-detail", args=[upload.pk])
    page = admin_client_.get(response["Location"]).content.decode()
    assert "3 articles; 6 sentences; 0 already stored (skipped)." in page
    assert "<li>Huawei story 0 opens.</li>" in page
    assert "Confirm and import" in page
    assert Article.objects.count() == 0
    response = admin_client_.post(reverse("upload-confirm", args=[upload.pk]))
    assert response.status_code == 302
    page = admin_client_.get(response["Location"]).content.decode()
    assert "Imported 3 articles (6 sentences); skipped 0 already present." in page
    assert 'value="3"' in page and "Done" in page
    assert set(Article.objects.values_list("licence", "source", "imported_from")) == {
        ("CC-BY-4.0", "Wire", "news.jsonl")
    }


def test_a_bad_file_shows_the_commands_message_and_stores_nothing(admin_client_):
    response = post_articles(admin_client_, data=b'{"title": "A", "body": "B."}\n{"title": \n')
    assert response.status_code == 400
    assert "news.jsonl:2: invalid JSON: Expecting value" in response.content.decode()
    assert (Upload.objects.count(), Article.objects.count()) == (0, 0)


def test_a_file_of_an_unknown_type_is_refused(admin_client_):
    response = post_articles(admin_client_, name="news.docx", data=b"PK\x03\x04")
    assert response.status_code == 400
    assert "news.docx: unsupported file type (expected .txt, .jsonl)" in response.content.decode()
    assert Upload.objects.count() == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(admin_client_, settings):
    settings.UPLOAD_MAX_BYTES = 10
    response = post_articles(admin_client_)
    assert response.status_code == 400
    assert "an upload takes at most 10 bytes a file (UPLOAD_MAX_BYTES)" in response.content.decode()
    assert Upload.objects.count() == 0


def test_labels_need_a_target_in_use(admin_client_, huawei):
    old = TargetFactory(name="Old", archived_at="2026-01-01T00:00:00Z")
    page = admin_client_.get(reverse("upload-page")).content.decode()
    assert f'<option value="{huawei.pk}"' in page and f'<option value="{old.pk}"' not in page
    assert post_labels(admin_client_, old, b"text,label\nA.,pro\n").status_code == 400
    assert Upload.objects.count() == 0


def test_an_admin_imports_labels_for_a_target(admin_client_, huawei):
    response = post_labels(
        admin_client_, huawei, b"text,label\nHuawei is fine.,FAVOR\n", label_map="FAVOR=pro"
    )
    upload = Upload.objects.get()
    assert (
        "1 label (pro 1); 0 on existing sentences" in admin_client_.get(response["Location"]).content.decode()
    )
    admin_client_.post(reverse("upload-confirm", args=[upload.pk]))
    assert list(Annotation.objects.values_list("annotator__username", "sentence__text", "label")) == [
        ("semeval", "Huawei is fine.", "pro")
    ]


def test_an_unknown_label_shows_the_commands_message(admin_client_, huawei):
    response = post_labels(admin_client_, huawei, b"text,label\nHuawei is fine.,maybe\n")
    assert response.status_code == 400
    assert "labels.csv:2: unknown label &#x27;maybe&#x27;" in response.content.decode()
    assert (Upload.objects.count(), Sentence.objects.count()) == (0, 0)


def test_a_large_upload_runs_in_the_background_and_its_progress_reaches_done(admin_client_, settings):
    settings.UPLOAD_INLINE_MAX_BYTES = 10
    post_articles(admin_client_)
    upload = Upload.objects.get()
    admin_client_.post(reverse("upload-confirm", args=[upload.pk]))
    url = reverse("upload-detail", args=[upload.pk])
    fragment = admin_client_.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="upload-status"')
    assert 'hx-trigger="every 1s"' in fragment and "Queued" in fragment
    assert Article.objects.count() == 0
    task = run_queued_task()
    assert task.status == "SUCCESSFUL", task.traceback
    fragment = admin_client_.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment  # polling stops once done
    assert '<progress id="upload-progress" max="3" value="3">' in fragment
    assert "Done" in fragment and "Imported 3 articles (6 sentences)" in fragment
    assert Article.objects.count() == 3
    assert not UploadFile.objects.exists()
    assert DBTaskResult.objects.get().return_value == {"status": "done", "error": ""}


def bytes_of(n: int) -> bytes:
    return "".join(
        json.dumps({"title": f"Story {i}", "body": f"Story {i} opens. It goes on."}) + "\n" for i in range(n)
    ).encode()


@pytest.mark.parametrize("size", [2, 40])
def test_the_import_pages_take_a_bounded_number_of_queries_at_any_size(
    admin_client_, huawei, size, django_assert_max_num_queries
):
    for _ in range(size):
        Upload.objects.create(kind="articles", names=["a.jsonl"], created_by=UserFactory())
    admin_client_.get(reverse("upload-page"))  # the session's first request writes it
    with django_assert_max_num_queries(8):
        assert admin_client_.get(reverse("upload-page")).status_code == 200
    # The session, the user, savepoints, the stored articles (one query a 500), the stale
    # previews dropped, the upload, its files.
    with django_assert_max_num_queries(9):
        response = post_articles(admin_client_, data=bytes_of(size * 10))
    assert response.status_code == 302
    with django_assert_max_num_queries(5):
        assert admin_client_.get(response["Location"]).status_code == 200
