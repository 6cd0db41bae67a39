"""Marking settled sentences as evaluation items: the adjudication page's `e`, the
`evaluation_items` command and the Django admin's actions (annotate/evaluation_items.py)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotate.adjudication import adjudication_record, adjudication_undo
from annotate.models import Adjudication, EvaluationItem, Label
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def settled(target, n: int, *, curator=None):
    curator = curator or UserFactory(role="curator")
    article = ArticleFactory()
    made = []
    for position in range(n):
        sentence = SentenceFactory(article=article, position=position)
        adjudication_record(curator=curator, sentence=sentence, target=target, label=Label.CONTRA)
        made.append(sentence)
    return made


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def toggle_url(target):
    return reverse("adjudicate-evaluation", args=[target.pk])


def test_the_e_key_marks_the_newest_settled_sentence_and_presses_its_chip(curator_client, huawei):
    _, newest = settled(huawei, 2)
    page = curator_client.get(reverse("adjudicate", args=[huawei.pk])).content.decode()
    assert 'id="evaluation-form"' in page and 'data-key="e"' in page
    assert f'name="sentence" value="{newest.pk}"' in page.split('id="evaluation-form"')[1][:800]

    response = curator_client.post(toggle_url(huawei), {"sentence": newest.pk}, **HTMX)

    assert response.status_code == 200
    assert list(EvaluationItem.objects.values_list("sentence_id", flat=True)) == [newest.pk]
    html = response.content.decode()
    assert "Evaluation item: “" in html
    chip = html.split('id="evaluation-form"')[1].split("</form>")[0]
    assert 'aria-pressed="true"' in chip


def test_pressing_it_again_unmarks_it(curator_client, huawei):
    (sentence,) = settled(huawei, 1)
    curator_client.post(toggle_url(huawei), {"sentence": sentence.pk}, **HTMX)
    response = curator_client.post(toggle_url(huawei), {"sentence": sentence.pk}, **HTMX)
    assert "No longer an evaluation item" in response.content.decode()
    assert not EvaluationItem.objects.exists()


def test_an_unsettled_sentence_cannot_be_marked(curator_client, huawei):
    sentence = SentenceFactory()
    response = curator_client.post(toggle_url(huawei), {"sentence": sentence.pk}, **HTMX)
    assert response.status_code == 409
    assert "settle it first" in response.content.decode()
    assert not EvaluationItem.objects.exists()


def test_marking_without_htmx_redirects_to_the_page(curator_client, huawei):
    (sentence,) = settled(huawei, 1)
    response = curator_client.post(toggle_url(huawei), {"sentence": sentence.pk})
    assert response.status_code == 302 and response["Location"] == reverse("adjudicate", args=[huawei.pk])


def test_annotators_cannot_mark_and_get_is_refused(annotator_client, curator_client, huawei):
    (sentence,) = settled(huawei, 1)
    assert annotator_client.post(toggle_url(huawei), {"sentence": sentence.pk}).status_code == 403
    assert curator_client.get(toggle_url(huawei)).status_code == 405
    assert curator_client.post(toggle_url(huawei), {"sentence": "x"}).status_code == 400
    assert not EvaluationItem.objects.exists()


def test_the_keymap_names_the_e_key(curator_client, huawei):
    settled(huawei, 1)
    page = curator_client.get(reverse("adjudicate", args=[huawei.pk])).content.decode()
    keymap = page.split('id="keymap"')[1].split("</details>")[0]
    assert "<dt><kbd>e</kbd></dt>" in keymap


def test_undoing_the_first_settle_removes_the_evaluation_item(huawei, curator):
    (sentence,) = settled(huawei, 1, curator=curator)
    call_command("evaluation_items", "--target", "Huawei", stdout=io.StringIO())
    assert EvaluationItem.objects.count() == 1
    adjudication_undo(curator=curator, sentence=sentence, target=huawei)
    assert not EvaluationItem.objects.exists()


def test_a_changed_gold_label_keeps_the_item_with_the_new_label(huawei, curator):
    (sentence,) = settled(huawei, 1, curator=curator)
    call_command("evaluation_items", "--target", "Huawei", stdout=io.StringIO())
    adjudication_record(curator=curator, sentence=sentence, target=huawei, label=Label.PRO)
    assert EvaluationItem.objects.get().adjudication.label == Label.PRO


# --- the command ------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluation_items", "--target", "Huawei", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_marks_every_settled_sentence_once(huawei, curator):
    settled(huawei, 3, curator=curator)
    SentenceFactory()  # not settled
    out, _ = run()
    assert "Marked 3 evaluation items on Huawei (0 were already; 3 in all)." in out
    out, _ = run()
    assert "Marked 0 evaluation items on Huawei (3 were already; 3 in all)." in out
    assert set(EvaluationItem.objects.values_list("marked_by", flat=True)) == {curator.pk}


def test_the_command_marks_the_first_n_or_the_sentences_given(huawei, curator):
    made = settled(huawei, 4, curator=curator)
    run("--limit", "2")
    assert sorted(EvaluationItem.objects.values_list("sentence_id", flat=True)) == [s.pk for s in made[:2]]
    unsettled = SentenceFactory()
    out, err = run("--sentences", f"{made[3].pk},{unsettled.pk}")
    assert f"sentence {unsettled.pk}: not settled on Huawei, left out" in err
    assert "Marked 1 evaluation items" in out


def test_the_command_unmarks_and_lists(huawei, curator):
    made = settled(huawei, 3, curator=curator)
    run()
    out, _ = run("--list")
    assert f"{made[0].pk}\tcontra\t" in out and "3 evaluation items on Huawei." in out
    run("--unmark", "--sentences", str(made[0].pk))
    assert EvaluationItem.objects.count() == 2
    out, _ = run("--unmark")
    assert "Unmarked 2 evaluation items on Huawei." in out and not EvaluationItem.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "Nope"], "No target named 'Nope'."),
        (["--target", "Huawei", "--sentences", "a,b"], "--sentences takes sentence ids"),
        (["--target", "Huawei", "--limit", "0"], "--limit takes a number from 1"),
        (["--target", "Huawei", "--curator", "ghost"], "No user named 'ghost'."),
    ],
)
def test_the_command_refuses_bad_input(huawei, curator, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("evaluation_items", *args, stdout=io.StringIO())


# --- the admin --------------------------------------------------------------------------


def test_the_admin_action_marks_and_unmarks_the_chosen_adjudications(admin_client_, huawei):
    made = settled(huawei, 3)
    chosen = list(Adjudication.objects.filter(sentence__in=made[:2]).values_list("pk", flat=True))
    url = reverse("admin:annotate_adjudication_changelist")

    response = admin_client_.post(
        url, {"action": "mark_evaluation_items", "_selected_action": chosen}, follow=True
    )

    assert "Marked 2 evaluation items (0 were already)." in response.content.decode()
    assert sorted(EvaluationItem.objects.values_list("sentence_id", flat=True)) == [s.pk for s in made[:2]]
    listing = admin_client_.get(url).content.decode()
    assert listing.count('alt="True"') == 2
    admin_client_.post(url, {"action": "unmark_evaluation_items", "_selected_action": chosen[:1]})
    assert EvaluationItem.objects.count() == 1


def test_labels_on_an_item_do_not_make_it_unsettled(huawei, annotator):
    (sentence,) = settled(huawei, 1)
    run()
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label=Label.PRO)
    assert EvaluationItem.objects.get().adjudication.label == Label.CONTRA


def test_an_evaluation_item_trains_once_on_the_curators_gold_however_many_annotators_answer_it(huawei):
    """Every annotator labels an evaluation item, most of them wrongly here: training still
    has one row for it, the curator's label, and none for the answers."""
    from annotate.evaluation_items import evaluation_items_mark
    from annotate.training import training_set

    curator = UserFactory(role="curator")
    article = ArticleFactory()
    item, plain = (SentenceFactory(article=article, position=p) for p in range(2))
    adjudication_record(curator=curator, sentence=item, target=huawei, label=Label.CONTRA)
    evaluation_items_mark(curator=curator, target=huawei)
    people = [UserFactory(role="annotator") for _ in range(4)]
    for n, person in enumerate(people):
        annotation_record(
            annotator=person, sentence=item, target=huawei, label=Label.CONTRA if n == 0 else Label.PRO
        )
    for person in people[:2]:
        annotation_record(annotator=person, sentence=plain, target=huawei, label=Label.NEUTRAL)
    data = training_set(target=huawei)
    rows = list(zip(data.sentence_ids, data.labels, strict=True)) + list(
        zip(data.slice_ids, data.slice_labels, strict=True)
    )
    assert sorted(rows) == sorted([(item.pk, Label.CONTRA), (plain.pk, Label.NEUTRAL)])


def test_agreement_leaves_evaluation_items_out(huawei):
    """Two annotators agree on one ordinary sentence and split on an evaluation item:
    agreement rests on the ordinary sentence only: two labels, one sentence, every pair
    agreeing (with the item counted it would be four labels, two sentences, 0.5)."""
    from annotate.agreement_data import agreement_set
    from annotate.evaluation_items import evaluation_items_mark

    curator = UserFactory(role="curator")
    article = ArticleFactory()
    item, plain = (SentenceFactory(article=article, position=p) for p in range(2))
    adjudication_record(curator=curator, sentence=item, target=huawei, label=Label.CONTRA)
    evaluation_items_mark(curator=curator, target=huawei)
    first, second = UserFactory(role="annotator"), UserFactory(role="annotator")
    annotation_record(annotator=first, sentence=item, target=huawei, label=Label.CONTRA)
    annotation_record(annotator=second, sentence=item, target=huawei, label=Label.PRO)
    for person in (first, second):
        annotation_record(annotator=person, sentence=plain, target=huawei, label=Label.NEUTRAL)
    overall = agreement_set(target=huawei).overall
    assert (overall.labels, overall.alpha_sentences, overall.percent) == (2, 1, 1.0)
    assert [(p.annotator_a, p.annotator_b, p.sentences) for p in overall.pairs] == [(first.pk, second.pk, 1)]
