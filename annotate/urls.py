from django.urls import path

from annotate.views import adjudication, articles, labelling, models
from annotate.views.dashboard import dashboard_page
from annotate.views.export import export_card, export_download

urlpatterns = [
    path("", labelling.label_home, name="home"),
    path("label/<int:target_id>/", labelling.label_page, name="label"),
    path("label/<int:target_id>/submit/", labelling.label_submit, name="label-submit"),
    path("label/<int:target_id>/undo/", labelling.label_undo, name="label-undo"),
    path("annotations/<int:annotation_id>/label/", labelling.annotation_relabel, name="annotation-relabel"),
    path("settings/shortcuts/", labelling.shortcuts_save, name="shortcuts-save"),
    path("articles/", articles.article_list, name="article-list"),
    path("articles/<int:article_id>/", articles.article_detail, name="article-detail"),
    path("adjudicate/<int:target_id>/", adjudication.adjudicate_page, name="adjudicate"),
    path("adjudicate/<int:target_id>/settle/", adjudication.adjudicate_settle, name="adjudicate-settle"),
    path("dashboard/<int:target_id>/", dashboard_page, name="dashboard"),
    path("models/<int:target_id>/", models.model_page, name="models"),
    path("models/<int:target_id>/retrain/", models.model_retrain, name="model-retrain"),
    path("models/<int:target_id>/queue/", models.queue_settings, name="queue-settings"),
    path("export/<int:target_id>/", export_download, name="export"),
    path("export/<int:target_id>/card/", export_card, name="export-card"),
]
