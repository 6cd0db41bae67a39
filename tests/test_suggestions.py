from __future__ import annotations

import itertools

import pytest

from annotate import suggestions
from annotate.models import Target
from tests.factories import ModelVersionFactory, SuggestionFactory

pytestmark = pytest.mark.django_db


# The control set


def test_the_control_set_is_fixed_per_target_and_sentence():
    target = Target(pk=7, control_share=0.3)
    first = [suggestions.in_control_set(target=target, sentence_id=i) for i in range(1, 500)]
    again = [
        suggestions.in_control_set(target=Target(pk=7, control_share=0.3), sentence_id=i)
        for i in range(1, 500)
    ]
    other = [
        suggestions.in_control_set(target=Target(pk=8, control_share=0.3), sentence_id=i)
        for i in range(1, 500)
    ]
    assert first == again
    assert first != other


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_the_control_sets_share_matches_control_share(share):
    target = Target(pk=3, control_share=share)
    hits = sum(suggestions.in_control_set(target=target, sentence_id=i) for i in range(1, 2001))
    assert abs(hits / 2000 - share) <= 0.03


def test_the_control_set_is_a_random_sample_whatever_a_sentences_place():
    """It doubles as the evaluation slice, so it must not follow the order of import: ids are
    given in article and position order, and membership must not depend on their digits
    or on a sentence's neighbour."""
    target = Target(pk=1, control_share=0.1)
    member = [suggestions.in_control_set(target=target, sentence_id=i) for i in range(1, 40_001)]
    for residue in range(10):
        share = sum(member[residue::10]) / len(member[residue::10])
        assert abs(share - 0.1) < 0.015, residue
    after_member = [b for a, b in itertools.pairwise(member) if a]
    assert abs(sum(after_member) / len(after_member) - 0.1) < 0.02


def test_a_control_share_of_zero_shows_every_suggestion():
    target = Target(pk=3, control_share=0)
    assert not any(suggestions.in_control_set(target=target, sentence_id=i) for i in range(1, 2001))


def test_a_control_share_of_one_hides_every_suggestion():
    target = Target(pk=3, control_share=1)
    assert all(suggestions.in_control_set(target=target, sentence_id=i) for i in range(1, 2001))


# What the annotator is shown


def test_suggestion_to_show_is_the_active_versions_suggestion(huawei, sentences):
    shown = SuggestionFactory(target=huawei, sentence=sentences[0], label="contra")
    old = ModelVersionFactory(target=huawei)
    SuggestionFactory(model_version=old, target=huawei, sentence=sentences[1])
    huawei.refresh_from_db()

    assert suggestions.suggestion_to_show(target=huawei, sentence=sentences[0]) == shown
    assert suggestions.suggestion_to_show(target=huawei, sentence=sentences[1]) is None


def test_suggestion_to_show_is_none_for_a_sentence_in_the_control_set(huawei, sentences):
    SuggestionFactory(target=huawei, sentence=sentences[0])
    huawei.refresh_from_db()
    huawei.control_share = 1

    assert suggestions.suggestion_to_show(target=huawei, sentence=sentences[0]) is None


def test_suggestion_to_show_is_none_for_a_target_without_an_active_version(huawei, sentences):
    version = ModelVersionFactory(target=huawei)
    SuggestionFactory(model_version=version, target=huawei, sentence=sentences[0])
    huawei.refresh_from_db()
    huawei.control_share = 0

    assert huawei.active_version is None
    assert suggestions.suggestion_to_show(target=huawei, sentence=sentences[0]) is None
