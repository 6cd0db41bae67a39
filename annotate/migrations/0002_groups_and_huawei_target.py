from django.db import migrations

GROUPS = ("annotator", "curator", "admin")

HUAWEI_GUIDELINES = """\
Label each sentence by the stance it takes toward Huawei, as written, not by what you think of it.

pro: the sentence supports Huawei, defends it, or argues for letting it build networks.
  Example: "Huawei has had a good track record on security over the years."

contra: the sentence opposes Huawei, warns against it, or argues for excluding it.
  Example: "Any deployment of Huawei's 5G technology is a risk."

neutral: the sentence reports facts or mentions Huawei without taking a side,
  or does not concern Huawei at all.
  Example: "The UK government will decide on Huawei's role in the 5G network this spring."

skip (s): captions, photo credits, newsletter blurbs and other text that is not part of the
  article; skipped sentences are left out of training and agreement.
"""


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Target = apps.get_model("annotate", "Target")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    Target.objects.get_or_create(
        name="Huawei",
        defaults={
            "description": "Huawei Technologies and its role in building 5G networks.",
            "guidelines": HUAWEI_GUIDELINES,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()
    apps.get_model("annotate", "Target").objects.filter(name="Huawei", annotations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create, remove)]
