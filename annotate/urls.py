from django.urls import path, register_converter

from annotate.views import (
    adjudication,
    articles,
    evaluation,
    labelling,
    models,
    my_labels,
    search,
    targets,
    team,
    uploads,
)
from annotate.views.dashboard import dashboard_page, dashboard_recompute, dashboard_summary
from annotate.views.export import export_card, export_download, export_form


class IdConverter:
    """An object id in a path: 1 to 18 ASCII digits, so it fits a signed 64-bit column.

    Django's int converter takes any number of digits, and a 20-digit id reached the
    database (an OverflowError, a 500) instead of being the 404 of an id that is not there.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("", labelling.label_home, name="home"),
    path("label/<id:target_id>/", labelling.label_page, name="label"),
    path("label/<id:target_id>/submit/", labelling.label_submit, name="label-submit"),
    path("label/<id:target_id>/undo/", labelling.label_undo, name="label-undo"),
    path("label/<id:target_id>/mine/", my_labels.my_labels, name="my-labels"),
    path("label/<id:target_id>/mine/<id:annotation_id>/", my_labels.my_label_change, name="my-label-change"),
    path("label/<id:target_id>/flag/", labelling.flag_submit, name="label-flag"),
    path("annotations/<id:annotation_id>/label/", labelling.annotation_relabel, name="annotation-relabel"),
    path("settings/shortcuts/", labelling.shortcuts_save, name="shortcuts-save"),
    path("targets/", targets.target_list, name="target-list"),
    path("targets/new/", targets.target_new, name="target-new"),
    path("targets/<id:target_id>/edit/", targets.target_edit, name="target-edit"),
    path("targets/<id:target_id>/archive/", targets.target_archive_set, name="target-archive"),
    path("articles/", articles.article_list, name="article-list"),
    path("articles/<id:article_id>/", articles.article_detail, name="article-detail"),
    path("uploads/", uploads.upload_page, name="upload-page"),
    path("uploads/articles/", uploads.upload_articles, name="upload-articles"),
    path("uploads/labels/", uploads.upload_labels, name="upload-labels"),
    path("uploads/<id:upload_id>/", uploads.upload_detail, name="upload-detail"),
    path("uploads/<id:upload_id>/confirm/", uploads.upload_confirm_view, name="upload-confirm"),
    path("adjudicate/<id:target_id>/", adjudication.adjudicate_page, name="adjudicate"),
    path("adjudicate/<id:target_id>/settle/", adjudication.adjudicate_settle, name="adjudicate-settle"),
    path("adjudicate/<id:target_id>/undo/", adjudication.adjudicate_undo, name="adjudicate-undo"),
    path("adjudicate/<id:target_id>/example/", adjudication.adjudicate_example, name="adjudicate-example"),
    path("adjudicate/<id:target_id>/return/", adjudication.adjudicate_return, name="adjudicate-return"),
    path(
        "adjudicate/<id:target_id>/flags/resolve/",
        adjudication.adjudicate_flag_resolve,
        name="adjudicate-flag-resolve",
    ),
    path(
        "adjudicate/<id:target_id>/evaluation/",
        adjudication.adjudicate_evaluation,
        name="adjudicate-evaluation",
    ),
    path("search/<id:target_id>/", search.search_page, name="search"),
    path("dashboard/<id:target_id>/", dashboard_page, name="dashboard"),
    path("dashboard/<id:target_id>/summary/", dashboard_summary, name="dashboard-summary"),
    path("dashboard/<id:target_id>/recompute/", dashboard_recompute, name="dashboard-recompute"),
    path(
        "dashboard/<id:target_id>/annotators/<id:annotator_id>/", evaluation.annotator_page, name="annotator"
    ),
    path(
        "dashboard/<id:target_id>/annotators/<id:annotator_id>/lift/",
        evaluation.annotator_lift,
        name="annotator-lift",
    ),
    path("models/<id:target_id>/", models.model_page, name="models"),
    path("models/<id:target_id>/retrain/", models.model_retrain, name="model-retrain"),
    path("models/<id:target_id>/queue/", models.queue_settings, name="queue-settings"),
    path("models/<id:target_id>/activate/", models.model_activate, name="model-activate"),
    path("models/<id:target_id>/policy/", models.retrain_policy, name="retrain-policy"),
    path("export/<id:target_id>/", export_download, name="export"),
    path("export/<id:target_id>/card/", export_card, name="export-card"),
    path("export/<id:target_id>/form/", export_form, name="export-form"),
    path("team/", team.team_page, name="team"),
    path("team/invites/", team.team_invite, name="team-invite"),
    path("team/invites/<id:invite_id>/revoke/", team.team_invite_revoke, name="team-invite-revoke"),
    path("team/<id:person_id>/role/", team.team_role, name="team-role"),
    path("team/<id:person_id>/active/", team.team_active, name="team-active"),
    path("team/<id:person_id>/reset/", team.team_reset, name="team-reset"),
    path("invite/<str:token>/", team.invite_page, name="invite"),
]
