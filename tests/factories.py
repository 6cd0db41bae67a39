from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate import classifier
from annotate.corpus import content_hash
from annotate.models import (
    STANCE_LABELS,
    Annotation,
    Article,
    Assignment,
    CrossValidatedPrediction,
    Label,
    ModelVersion,
    QueueOrder,
    Sentence,
    Suggestion,
    Target,
)
from annotate.queue.record import annotation_record
from annotate.queue.rule import ASSIGNMENT_TIMEOUT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")
    is_staff = False
    is_superuser = False

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Target {n}")
    guidelines = "pro / contra / neutral"
    # New targets default to the random order; the queue's tests are written in article
    # order (predictable hand-outs) and ask for the random one where they are about it.
    queue_order = QueueOrder.IN_ORDER


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    source = "Example News"
    body = factory.Sequence(lambda n: f"Body of article {n}. It has two sentences.")
    content_hash = factory.LazyAttribute(lambda article: content_hash(article.body))


class SentenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sentence

    article = factory.SubFactory(ArticleFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Sentence number {n} about Huawei.")
    start = 0
    end = factory.LazyAttribute(lambda sentence: len(sentence.text))


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation

    annotator = factory.SubFactory(UserFactory, role="annotator")
    sentence = factory.SubFactory(SentenceFactory)
    target = factory.SubFactory(TargetFactory)
    label = Label.PRO


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A live reservation; pass expires_at in the past for an abandoned one."""

    class Meta:
        model = Assignment

    annotator = factory.SubFactory(UserFactory, role="annotator")
    target = factory.SubFactory(TargetFactory)
    sentence = factory.SubFactory(SentenceFactory)
    shown_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda assignment: assignment.shown_at + ASSIGNMENT_TIMEOUT)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    target = factory.SubFactory(TargetFactory)
    status = ModelVersion.Status.READY
    train_size = 30
    metrics = factory.LazyFunction(lambda: {"accuracy": 0.7, "macro_f1": 0.6, "f_avg": 0.55})


def active_version(target: Target) -> ModelVersion:
    """The target's active model version, made (and activated) if it has none.

    Tests of suggestions want them shown, so the target's control set is switched off.
    """
    target.refresh_from_db(fields=["active_version", "control_share"])
    if target.active_version is None:
        target.active_version = ModelVersionFactory(target=target)
        target.control_share = 0
        target.save(update_fields=["active_version", "control_share"])
    return target.active_version


class SuggestionFactory(factory.django.DjangoModelFactory):
    """A suggestion of the target's active model; the control set is off for that target."""

    class Meta:
        model = Suggestion

    sentence = factory.SubFactory(SentenceFactory)
    target = factory.SubFactory(TargetFactory)
    model_version = factory.LazyAttribute(lambda suggestion: active_version(suggestion.target))
    label = Label.PRO
    confidence = 0.8
    probabilities = factory.LazyAttribute(
        lambda suggestion: {
            label: suggestion.confidence if label == suggestion.label else (1 - suggestion.confidence) / 2
            for label in STANCE_LABELS
        }
    )


class CrossValidatedPredictionFactory(factory.django.DjangoModelFactory):
    """An out-of-fold prediction of the target's active model (made if it has none)."""

    class Meta:
        model = CrossValidatedPrediction

    class Params:
        target = factory.SubFactory(TargetFactory)

    sentence = factory.SubFactory(SentenceFactory)
    model_version = factory.LazyAttribute(lambda prediction: active_version(prediction.target))
    label = Label.PRO
    confidence = 0.9


#: Words that give each stance away, so a model trained on a few dozen sentences learns them.
STANCE_WORDS = {
    "pro": "welcome trusted partner fair open safe good benefit".split(),
    "contra": "spying threat danger ban risk exclude warning fear".split(),
    "neutral": "said monday report council week meeting statement published".split(),
}


def stance_text(label: str, n: int) -> str:
    """A sentence that plainly takes the given stance; n varies the words."""
    words = STANCE_WORDS[label]
    picked = [words[(n * 3 + k) % len(words)] for k in range(3)]
    return f"Huawei {' '.join(picked)} number {n}."


def labelled_corpus(
    *, target: Target, per_class: int = 14, annotators: int = 2, article: Article | None = None
) -> list[Sentence]:
    """Sentences with telling words for each stance, each given that stance by every annotator.

    The labels go through annotation_record, as the browser's do; per_class * 3 gold labels
    result. The annotators have no password and no role, so transactional tests can use it.
    """
    article = article or ArticleFactory()
    labellers = [UserFactory(password=None) for _ in range(annotators)]
    sentences = []
    for i in range(per_class * 3):
        label = STANCE_LABELS[i % 3]
        sentence = SentenceFactory(article=article, position=i, text=stance_text(label, i))
        for labeller in labellers:
            annotation_record(annotator=labeller, sentence=sentence, target=target, label=label)
        sentences.append(sentence)
    return sentences


def api_token(user) -> str:
    """An API token for the user, as `manage.py issue_token` gives one."""
    return Token.objects.get_or_create(user=user)[0].key


def api_client(user) -> APIClient:
    """An API client that sends the user's token, as a script would."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


_trained: dict[tuple[object, ...], classifier.TrainedModel] = {}
_train = classifier.train


def train_once(
    texts: list[str],
    labels: list[str],
    *,
    groups: list[int] | None = None,
    grouped_by: str = "article",
    random_state: int = 0,
    embeddings: object = None,
    features: classifier.Features | None = None,
) -> classifier.TrainedModel:
    """classifier.train, run once per distinct training set and then reused.

    Training is deterministic and takes most of a retrain test's time; labelled_corpus gives
    many tests the same set. Patch it in with monkeypatch.setattr(classifier, "train", train_once).
    """
    features = features or classifier.Features()
    vectors = None if embeddings is None else embeddings.tobytes()  # type: ignore[attr-defined]
    # The folds depend only on the groups' order, not on their ids (StratifiedGroupKFold
    # numbers them by np.unique), and the ids are article ids, which on PostgreSQL differ
    # from test to test (its sequences are not rolled back): keyed by rank, as the same.
    ranks = None if groups is None else {g: r for r, g in enumerate(sorted(set(groups)))}
    key = (
        tuple(texts),
        tuple(labels),
        None if groups is None or ranks is None else tuple(ranks[g] for g in groups),
        grouped_by,
        random_state,
        vectors,
        features,
    )
    if key not in _trained:
        _trained[key] = _train(
            texts,
            labels,
            groups=groups,
            grouped_by=grouped_by,
            random_state=random_state,
            embeddings=embeddings,  # type: ignore[arg-type]
            features=features,
        )
    return _trained[key]


#: The target settings a browser posts besides the ones a test is about (the models page's
#: queue settings, the Django admin's target form).
SETTINGS_POSTED = (
    "overlap",
    "dynamic_overlap",
    "max_overlap",
    "posterior_threshold",
    "queue_order",
    "uncertainty_measure",
    "random_share",
    "control_share",
    "gold_method",
    "suggestion_mode",
    "evaluation_rate",
    "evaluation_onboarding",
    "min_label_ms",
    "evaluation_threshold",
    "evaluation_min_items",
    "evaluation_pause",
    "retrain_every",
    "retrain_floor_minutes",
)


def target_settings(**changes: object) -> dict[str, object]:
    """Every posted target setting at the model's default, with `changes`: a form post that
    changes only what a test names, however many settings targets gain. An unchecked box
    (False) is left out, as a browser leaves it out; an empty field (None) is posted empty."""
    defaults = {name: Target._meta.get_field(name).get_default() for name in SETTINGS_POSTED}
    return {
        name: "" if value is None else value
        for name, value in {**defaults, **changes}.items()
        if value is not False
    }
