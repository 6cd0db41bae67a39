from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnnotateConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "annotate"
    verbose_name = "Stance annotation"

    def ready(self) -> None:
        # SQLite drops a table's triggers when a migration rebuilds it (annotate/triggers.py).
        from annotate.triggers import after_migrate

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="annotate-triggers")
