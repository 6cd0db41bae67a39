from django.urls import path

from annotate.views import articles

urlpatterns = [
    path("", articles.home, name="home"),
    path("articles/", articles.article_list, name="article-list"),
    path("articles/<int:article_id>/", articles.article_detail, name="article-detail"),
]
