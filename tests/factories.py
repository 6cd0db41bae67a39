from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from annotate.corpus import content_hash
from annotate.models import Annotation, Article, Label, Sentence, Target


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
