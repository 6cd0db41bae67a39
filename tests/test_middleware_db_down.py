"""A database that cannot be reached answers 503 "retry shortly", not a 500 page; other
database errors (a missing table, a deadlock) are faults: a 500, logged as errors."""

from __future__ import annotations

import logging
import sqlite3
from unittest import mock

import psycopg
import psycopg.errors
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, connection
from django.test import Client

from annotate.middleware import database_unreachable
from annotate.models import Annotation, AnnotationEvent
from tests.factories import TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Database unavailable, retry shortly."


def from_driver(driver_error: Exception) -> OperationalError:
    """Django's OperationalError as Django raises it: from the driver's (DatabaseErrorWrapper)."""
    error = OperationalError(*driver_error.args)
    error.__cause__ = driver_error
    return error


def refused_connection() -> OperationalError:
    """A real psycopg connection failure: nothing listens on port 1."""
    try:
        psycopg.connect("host=127.0.0.1 port=1 user=postgres connect_timeout=2")
    except psycopg.OperationalError as error:
        return from_driver(error)
    raise AssertionError("something listens on port 1")


def sqlite_locked(tmp_path) -> OperationalError:
    """A real "database is locked": another connection holds the write lock, no busy wait."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return from_driver(error)
    finally:
        holder.close()
    raise AssertionError("the second writer got the lock")


def sqlite_cannot_open(tmp_path) -> OperationalError:
    try:
        sqlite3.connect(tmp_path / "no-such-folder" / "db.sqlite3")
    except sqlite3.OperationalError as error:
        return from_driver(error)
    raise AssertionError("opened a file in a missing folder")


def query_a_missing_table(*args: object, **kwargs: object) -> None:
    """What every query does after a missed migration: SQLite's "no such table" (an
    OperationalError), PostgreSQL's "relation does not exist" (a ProgrammingError)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM annotate_table_from_a_missed_migration")


@pytest.fixture
def logged_in(annotator) -> Client:
    """A client that gets the 500 page, as a browser does, instead of the exception."""
    client = Client(raise_request_exception=False)
    client.force_login(annotator)
    return client


def assert_a_logged_server_error(response, caplog) -> None:
    assert response.status_code == 500
    assert MESSAGE not in response.content.decode()
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info is not None


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == MESSAGE
    assert response["Retry-After"] == "5"


def test_a_view_whose_query_fails_to_connect_answers_503(annotator_client, huawei, sentences):
    with mock.patch("annotate.views.labelling.next_sentence_id", side_effect=refused_connection()):
        response = annotator_client.get(f"/label/{huawei.pk}/", HTTP_HX_REQUEST="true")
    assert_unavailable(response)


def test_a_label_post_cut_off_by_the_server_answers_503_and_writes_nothing(
    annotator_client, huawei, sentences
):
    error = InterfaceError("connection already closed")
    # Cut off after the label is written, while the next sentence is reserved: the label
    # is in the same transaction, so it goes too.
    with mock.patch("annotate.queue.loop.reserve_next_locked", side_effect=error):
        response = annotator_client.post(
            f"/label/{huawei.pk}/submit/",
            {"sentence": sentences[0].pk, "label": "pro"},
            HTTP_HX_REQUEST="true",
        )
    assert_unavailable(response)
    assert not Annotation.objects.exists()
    assert not AnnotationEvent.objects.exists()


def test_the_session_lookup_failing_before_the_view_answers_503(annotator_client, huawei):
    error = from_driver(psycopg.errors.CannotConnectNow("the database system is starting up"))
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=error):
        response = annotator_client.get(f"/label/{huawei.pk}/")
    assert_unavailable(response)


def test_sqlite_locked_past_its_busy_timeout_answers_503_and_is_logged(
    annotator_client, huawei, sentences, caplog, tmp_path
):
    error = sqlite_locked(tmp_path)
    with (
        caplog.at_level(logging.WARNING, logger="annotate.middleware"),
        mock.patch("annotate.views.labelling.next_sentence_id", side_effect=error),
    ):
        response = annotator_client.get(f"/label/{huawei.pk}/")
    assert_unavailable(response)
    assert "database is locked" in caplog.text


def test_other_database_errors_are_not_hidden(annotator_client, huawei, sentences):
    with (
        mock.patch("annotate.views.labelling.next_sentence_id", side_effect=IntegrityError("bug")),
        pytest.raises(IntegrityError),
    ):
        annotator_client.get(f"/label/{huawei.pk}/")


def test_pages_work_as_before_when_the_database_is_up(annotator_client, huawei, sentences):
    response = annotator_client.get(f"/label/{huawei.pk}/")
    assert response.status_code == 200


def test_a_sqlite_file_that_cannot_be_opened_answers_503(annotator_client, huawei, sentences, tmp_path):
    error = sqlite_cannot_open(tmp_path)
    with mock.patch("annotate.views.labelling.next_sentence_id", side_effect=error):
        response = annotator_client.get(f"/label/{huawei.pk}/")
    assert_unavailable(response)


def test_a_missing_table_after_a_missed_migration_is_a_logged_500_not_a_503(logged_in, huawei, caplog):
    with mock.patch("annotate.views.labelling.next_sentence_id", side_effect=query_a_missing_table):
        response = logged_in.get(f"/label/{huawei.pk}/")
    assert_a_logged_server_error(response, caplog)


def test_a_missing_session_table_is_a_logged_500_not_a_503(logged_in, huawei, caplog):
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load", side_effect=query_a_missing_table
    ):
        response = logged_in.get(f"/label/{huawei.pk}/")
    assert_a_logged_server_error(response, caplog)


def test_a_deadlock_is_a_logged_500_not_a_retry_shortly(logged_in, huawei, sentences, caplog):
    deadlock = from_driver(psycopg.errors.DeadlockDetected("deadlock detected"))
    with mock.patch("annotate.queue.loop.reserve_next_locked", side_effect=deadlock):
        response = logged_in.post(
            f"/label/{huawei.pk}/submit/",
            {"sentence": sentences[0].pk, "label": "pro"},
            HTTP_HX_REQUEST="true",
        )
    assert_a_logged_server_error(response, caplog)
    assert not Annotation.objects.exists()


def test_a_deadlock_in_the_api_is_a_500_not_a_json_503(curator, huawei, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(curator)
    deadlock = from_driver(psycopg.errors.DeadlockDetected("deadlock detected"))
    with mock.patch("annotate.api.views.summary_for", side_effect=deadlock):
        response = client.get(f"/api/targets/{huawei.id}/agreement/")
    assert_a_logged_server_error(response, caplog)


@pytest.mark.parametrize(
    ("driver_error", "unreachable"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.CannotConnectNow("the database system is shutting down"), True),
        (psycopg.errors.ConnectionFailure("connection failure"), True),
        (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), False),
        (psycopg.errors.SerializationFailure("could not serialize access"), False),
        (psycopg.errors.LockNotAvailable("could not obtain lock on row"), False),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (psycopg.errors.DiskFull("could not extend file"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_postgresql_errors_are_told_apart_by_sqlstate(driver_error, unreachable):
    assert database_unreachable(from_driver(driver_error)) is unreachable


def test_sqlite_errors_are_told_apart_by_result_code(tmp_path):
    assert database_unreachable(sqlite_locked(tmp_path))
    assert database_unreachable(sqlite_cannot_open(tmp_path))
    with pytest.raises(sqlite3.OperationalError) as missing_table:
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    assert not database_unreachable(from_driver(missing_table.value))


def test_a_table_lock_is_not_the_database_lock_past_the_busy_timeout():
    """SQLITE_LOCKED ("database table is locked": a conflict inside one connection) is a
    fault in the code, not the busy database that a retry cures (SQLITE_BUSY)."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    reading = db.execute("SELECT x FROM t")
    reading.fetchone()
    with pytest.raises(sqlite3.OperationalError, match="database table is locked") as table_locked:
        db.execute("DROP TABLE t")
    assert not database_unreachable(from_driver(table_locked.value))


@pytest.mark.django_db(transaction=True)
def test_a_database_that_refuses_new_connections_answers_503(tmp_path):
    """A real failure to connect, raised by Django's ensure_connection as it opens the
    request's connection (the session lookup is its first query): nothing is mocked but
    where the connection goes."""
    # A transactional test cannot rely on the migration's rows (groups, the Huawei target).
    target = TargetFactory()
    client = Client()
    client.force_login(UserFactory())
    params = connection.get_connection_params()
    if connection.vendor == "postgresql":
        nowhere = {**params, "host": "127.0.0.1", "port": 1, "connect_timeout": 2}
    else:
        nowhere = {**params, "database": str(tmp_path / "no-such-folder" / "db.sqlite3")}
    connection.close()
    with mock.patch.object(connection, "get_connection_params", return_value=nowhere):
        response = client.get(f"/label/{target.pk}/")
    assert_unavailable(response)
