"""The API's view of annotators against the evaluation items (curators), as the dashboard's
table and the annotator page show it (annotate/evaluation.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.api.docs import documented
from annotate.api.permissions import IsCurator, signed_in
from annotate.evaluation import AnnotatorEvaluation, evaluation_lift, evaluations
from annotate.models import EvaluationItem, Target


class ConfusionRowSerializer(serializers.Serializer):
    pro = serializers.IntegerField()
    contra = serializers.IntegerField()
    neutral = serializers.IntegerField()


class ModelRowSerializer(serializers.Serializer):
    pro = serializers.FloatField()
    contra = serializers.FloatField()
    neutral = serializers.FloatField()


class ModelMatrixSerializer(serializers.Serializer):
    labels = serializers.IntegerField(help_text="The stance labels the matrix was fitted on.")
    accuracy = serializers.FloatField(
        help_text="The diagonal weighted by the estimated share of each stance."
    )
    identifiable = serializers.BooleanField(
        help_text="false: no sentence had two annotators' labels; the rows are vote shares, not an estimate."
    )
    confusion = serializers.DictField(
        child=ModelRowSerializer(),
        help_text="Estimated true stance -> the chance of each label given to such a sentence.",
    )


class AnnotatorEvaluationSerializer(serializers.Serializer):
    annotator = serializers.IntegerField()
    username = serializers.CharField()
    labels = serializers.IntegerField(help_text="Stance labels on the target.")
    skips = serializers.IntegerField()
    evaluation_answered = serializers.IntegerField(
        help_text="Stance labels on evaluation items given after the item was marked."
    )
    evaluation_correct = serializers.IntegerField()
    evaluation_skipped = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    accuracy_low = serializers.FloatField(allow_null=True, help_text="Wilson 95 % interval, lower end.")
    accuracy_high = serializers.FloatField(allow_null=True, help_text="Wilson 95 % interval, upper end.")
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa of the answers against gold.")
    confusion = serializers.DictField(
        child=ConfusionRowSerializer(), help_text="Gold label -> answers by label given."
    )
    answered_since_lift = serializers.IntegerField(help_text="What the flag rests on.")
    accuracy_since_lift = serializers.FloatField(allow_null=True)
    flagged = serializers.BooleanField(help_text="Below the target's threshold after its minimum of answers.")
    paused = serializers.BooleanField(help_text="Their queue hands out nothing until a curator lifts it.")
    lifted_at = serializers.DateTimeField(allow_null=True)
    median_seconds = serializers.FloatField(
        allow_null=True, help_text="Over labels and skips, from the summary."
    )
    timed_labels = serializers.IntegerField(allow_null=True, help_text="null: the summary is being computed.")
    fast_labels = serializers.IntegerField(allow_null=True, help_text="Faster than min_label_seconds.")
    too_fast = serializers.BooleanField(help_text="The median is below the minimum.")
    min_label_seconds = serializers.FloatField()
    dawid_skene = ModelMatrixSerializer(
        allow_null=True,
        help_text="Their confusion matrix as the summary's Dawid-Skene model estimated it; "
        "null while the summary is being computed.",
    )


class AnnotatorEvaluationsSerializer(serializers.Serializer):
    target = serializers.IntegerField()
    evaluation_items = serializers.IntegerField()
    annotators = AnnotatorEvaluationSerializer(many=True)


def _payload(target: Target, found: list[AnnotatorEvaluation]) -> dict[str, object]:
    return {
        "target": target.pk,
        "evaluation_items": EvaluationItem.objects.filter(target=target).count(),
        "annotators": [e.as_dict() for e in found],
    }


class AnnotatorEvaluationsView(APIView):
    permission_classes = [IsCurator]

    @documented(
        summary="Annotators against evaluation items (curators)",
        description="Per annotator: accuracy on the evaluation items with its Wilson 95 % interval, "
        "Cohen's kappa against gold, the confusion matrix, median seconds a label, labels faster than "
        "the target's minimum, and the flag and pause.",
        responses=AnnotatorEvaluationsSerializer,
    )
    def get(self, request: Request, target_id: str) -> Response:
        target = get_object_or_404(Target, pk=int(target_id))
        return Response(AnnotatorEvaluationsSerializer(_payload(target, evaluations(target=target))).data)


class AnnotatorEvaluationView(APIView):
    permission_classes = [IsCurator]

    @documented(
        summary="One annotator against evaluation items (curators)",
        operation_id="targets_annotator_retrieve",
        responses=AnnotatorEvaluationsSerializer,
    )
    def get(self, request: Request, target_id: str, annotator_id: str) -> Response:
        target = get_object_or_404(Target, pk=int(target_id))
        found = evaluations(target=target, annotator_id=int(annotator_id))
        if not found:
            raise NotFound("That annotator has no labels on this target.")
        return Response(AnnotatorEvaluationsSerializer(_payload(target, found)).data)


class AnnotatorLiftView(APIView):
    permission_classes = [IsCurator]

    @documented(
        summary="Lift an annotator's flag and pause (curators)",
        description="Their queue hands out sentences again; only answers from now on count toward a new flag.",
        request=None,
        responses=AnnotatorEvaluationsSerializer,
    )
    def post(self, request: Request, target_id: str, annotator_id: str) -> Response:
        target = get_object_or_404(Target, pk=int(target_id))
        annotator = get_object_or_404(get_user_model(), pk=int(annotator_id))
        evaluation_lift(curator=signed_in(request), annotator=annotator, target=target)
        found = evaluations(target=target, annotator_id=annotator.pk)
        return Response(AnnotatorEvaluationsSerializer(_payload(target, found)).data)
