"""A database that cannot be reached answers 503 "retry shortly", not a 500 page."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

from annotate.models import Annotation, AnnotationEvent

pytestmark = pytest.mark.django_db

MESSAGE = "Database unavailable, retry shortly."


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == MESSAGE
    assert response["Retry-After"] == "5"


def test_a_view_whose_query_fails_to_connect_answers_503(annotator_client, huawei, sentences):
    error = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch("annotate.views.labelling.queue.next_sentence_id", side_effect=error):
        response = annotator_client.get(f"/label/{huawei.pk}/", HTTP_HX_REQUEST="true")
    assert_unavailable(response)


def test_a_label_post_cut_off_by_the_server_answers_503_and_writes_nothing(
    annotator_client, huawei, sentences
):
    error = InterfaceError("connection already closed")
    # Cut off after the label is written, while the next sentence is reserved: the label
    # is in the same transaction, so it goes too.
    with mock.patch("annotate.labelling.queue.reserve_next", side_effect=error):
        response = annotator_client.post(
            f"/label/{huawei.pk}/submit/",
            {"sentence": sentences[0].pk, "label": "pro"},
            HTTP_HX_REQUEST="true",
        )
    assert_unavailable(response)
    assert not Annotation.objects.exists()
    assert not AnnotationEvent.objects.exists()


def test_the_session_lookup_failing_before_the_view_answers_503(annotator_client, huawei):
    error = OperationalError("the database system is starting up")
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=error):
        response = annotator_client.get(f"/label/{huawei.pk}/")
    assert_unavailable(response)


def test_sqlite_locked_past_its_busy_timeout_answers_503_and_is_logged(
    annotator_client, huawei, sentences, caplog
):
    error = OperationalError("database is locked")
    with (
        caplog.at_level(logging.WARNING, logger="annotate.middleware"),
        mock.patch("annotate.views.labelling.queue.next_sentence_id", side_effect=error),
    ):
        response = annotator_client.get(f"/label/{huawei.pk}/")
    assert_unavailable(response)
    assert "database is locked" in caplog.text


def test_other_database_errors_are_not_hidden(annotator_client, huawei, sentences):
    with (
        mock.patch("annotate.views.labelling.queue.next_sentence_id", side_effect=IntegrityError("bug")),
        pytest.raises(IntegrityError),
    ):
        annotator_client.get(f"/label/{huawei.pk}/")


def test_pages_work_as_before_when_the_database_is_up(annotator_client, huawei, sentences):
    response = annotator_client.get(f"/label/{huawei.pk}/")
    assert response.status_code == 200
