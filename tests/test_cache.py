"""The shared cache: local memory by default, Redis when REDIS_URL is set, so that several
app hosts behind a load balancer agree on cached progress."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

from annotate import progress
from stance.settings import cache_settings

from .factories import SentenceFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_without_redis_url_the_cache_is_local_memory() -> None:
    assert cache_settings("")["default"]["BACKEND"] == ("django.core.cache.backends.locmem.LocMemCache")


def test_with_redis_url_the_cache_is_djangos_redis_cache_at_that_address() -> None:
    settings = cache_settings("redis://cache.internal:6379/2")["default"]
    assert settings["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["LOCATION"] == "redis://cache.internal:6379/2"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis"])
def test_a_redis_url_that_is_not_one_is_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        cache_settings(url)


def redis_host() -> RedisCache:
    """One app host's view of the shared Redis cache, under a prefix of this test's own."""
    options = cache_settings(REDIS_URL)["default"]
    cache = RedisCache(REDIS_URL, {**options, "KEY_PREFIX": f"test-{uuid.uuid4()}"})
    try:
        cache.get("ping")
    except Exception as error:  # redis.ConnectionError; redis is imported lazily by Django
        if os.environ.get("TEST_REDIS_REQUIRED"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return cache


@pytest.mark.django_db
def test_two_hosts_on_redis_serve_the_same_cached_progress(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries
) -> None:
    SentenceFactory.create_batch(3)
    first = redis_host()
    # The second host is another connection to the same Redis under the same prefix.
    second = RedisCache(REDIS_URL, {"KEY_PREFIX": first.key_prefix})
    try:
        monkeypatch.setattr(progress, "cache", first)
        assert progress.share_inputs() == (3, 0)
        SentenceFactory.create()  # within SHARE_INPUTS_SECONDS, as the docstring allows
        monkeypatch.setattr(progress, "cache", second)
        with django_assert_num_queries(0):
            assert progress.share_inputs() == (3, 0)
    finally:
        first.clear()


@pytest.mark.django_db
def test_two_hosts_on_local_memory_each_count_for_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SentenceFactory.create_batch(3)
    monkeypatch.setattr(progress, "cache", LocMemCache(f"host-a-{uuid.uuid4()}", {}))
    assert progress.share_inputs() == (3, 0)
    SentenceFactory.create()
    monkeypatch.setattr(progress, "cache", LocMemCache(f"host-b-{uuid.uuid4()}", {}))
    assert progress.share_inputs() == (4, 0)  # counted afresh: host A's value is not here
