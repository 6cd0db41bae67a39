from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from annotate.models import Target
from annotate.targets import target_update
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path) -> Path:
    """Trained models go to the test's own folder, never the project's models/."""
    settings.MODEL_DIR = tmp_path / "models"
    return settings.MODEL_DIR


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache (the progress bar caches the corpus size)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture
def huawei(db) -> Target:
    """The target created by the data migration."""
    return Target.objects.get(name="Huawei")


@pytest.fixture
def no_evaluation_slice(db) -> None:
    """Huawei without a control set, so every gold label trains and counts come out exact.

    The evaluation slice (the control set, never trained on) has tests of its own. A
    transactional test starts without the migration's Huawei and makes its own targets.
    """
    Target.objects.filter(name="Huawei").update(control_share=0)


@pytest.fixture
def annotator(db):
    return UserFactory(username="ann", role="annotator")


@pytest.fixture
def other_annotator(db):
    return UserFactory(username="bob", role="annotator")


@pytest.fixture
def curator(db):
    return UserFactory(username="cur", role="curator")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def annotator_client(annotator) -> Client:
    client = Client()
    client.force_login(annotator)
    return client


@pytest.fixture
def admin_client_(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def article(db):
    return ArticleFactory()


@pytest.fixture
def sentences(article):
    return [SentenceFactory(article=article, position=i) for i in range(5)]


@pytest.fixture
def dynamic(huawei) -> Target:
    """Huawei at overlap 2 with dynamic overlap on (most: 3)."""
    return target_update(target_id=huawei.pk, values={"overlap": 2, "dynamic_overlap": True})


@pytest.fixture
def crowd(db):
    """Five annotators (without a password: none of them logs in with one)."""
    return UserFactory.create_batch(5, role="annotator", password=None)
