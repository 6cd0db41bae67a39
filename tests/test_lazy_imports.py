"""The web processes leave numpy, scikit-learn, SciPy, pandas, statsmodels and the
embedding runtime (onnxruntime, tokenizers) on disk.

Each gunicorn worker that imports them carries tens of MB it never uses to serve a label
(numpy alone ~30 MB a worker). They are imported where they are used (training, the
agreement maths), and these tests check it in a fresh interpreter: pytest's own process
has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "sklearn", "scipy", "pandas", "statsmodels", "onnxruntime", "tokenizers", "huggingface_hub")

# Settings, URLconf (the app's and the API's), the WSGI handler (and so every middleware),
# migrations on an empty SQLite file, the login page, then an annotator's label round trip
# on a sentence with a suggestion. What is imported is printed after each step.
ROUND_TRIP = """
import json, sys

stages = {}


def loaded(stage):
    stages[stage] = sorted({name.partition(".")[0] for name in sys.modules})

import django
django.setup()

from django.core.management import call_command
from django.test.utils import setup_test_environment
from django.urls import get_resolver

get_resolver().url_patterns
import stance.wsgi  # noqa: E402

loaded("urlconf")

call_command("migrate", verbosity=0)

from django.test import Client  # noqa: E402

from annotate.models import Annotation, Target  # noqa: E402
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory  # noqa: E402

setup_test_environment()
login = Client().get("/accounts/login/")
assert login.status_code == 200, login.status_code
loaded("login page")
target = Target.objects.get(name="Huawei")
article = ArticleFactory()
sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
for sentence in sentences:
    SuggestionFactory(sentence=sentence, target=target)
client = Client()
client.force_login(UserFactory(username="ann", role="annotator"))

page = client.get(f"/label/{target.pk}/")
assert page.status_code == 200, page.status_code
assert f'data-sentence-id="{sentences[0].pk}"' in page.content.decode()
posted = client.post(
    f"/label/{target.pk}/submit/",
    {"sentence": sentences[0].pk, "label": "pro", "spent_ms": 1200},
    HTTP_HX_REQUEST="true",
)
assert posted.status_code == 200, posted.status_code
assert Annotation.objects.filter(sentence=sentences[0], label="pro").count() == 1
loaded("label round trip")

# An import stores sentences and queues their embedding; the worker computes it, not this process.
from django.db import transaction  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from annotate.corpus import ParsedArticle, articles_import  # noqa: E402

with transaction.atomic():
    articles_import(articles=[ParsedArticle(title="t", body="Huawei said so. It left.", origin="test")])
assert DBTaskResult.objects.filter(task_path="annotate.tasks.embed_sentences").count() == 1
loaded("import")
print(json.dumps(stages))
"""

# The same detector must see them once training runs (else the test above proves nothing).
TRAINING = """
import json, sys

from annotate import classifier
imported = sorted({name.partition(".")[0] for name in sys.modules})
texts = [f"good fair {i}" for i in range(6)] + [f"risk threat {i}" for i in range(6)]
classifier.train(texts, ["pro"] * 6 + ["contra"] * 6)
trained = sorted({name.partition(".")[0] for name in sys.modules})
print(json.dumps([imported, trained]))
"""


# drf-spectacular's generator (with django.test and unittest, which it imports) is for making
# the schema: the URLconf and an API request leave it out, `manage.py spectacular` loads it.
GENERATOR = ("drf_spectacular.openapi", "drf_spectacular.plumbing", "django.test", "unittest")
SCHEMA = """
import io, json, os, sys

os.environ["ALLOWED_HOSTS"] = "localhost"
import django
django.setup()

from django.core.management import call_command
from django.urls import get_resolver

GENERATOR = GENERATOR_NAMES


def loaded():
    return sorted(name for name in sys.modules if name in GENERATOR)


get_resolver().url_patterns
from stance.wsgi import application  # noqa: E402

call_command("migrate", verbosity=0)
answered = []
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": "/api/targets/", "SERVER_NAME": "localhost",
    "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
    "HTTP_ACCEPT": "application/json",
}
body = b"".join(application(environ, lambda status, headers: answered.append(status)))
served = loaded()
call_command("spectacular", file=sys.argv[1])
print(json.dumps({"status": answered[0], "served": served, "schema": loaded()}))
""".replace("GENERATOR_NAMES", repr(GENERATOR))


def run_fresh(code: str, tmp_path: Path, *args: str) -> object:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "stance.settings",
        "SQLITE_PATH": str(tmp_path / "lazy.sqlite3"),
        "MODEL_DIR": str(tmp_path / "models"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_urlconf_the_login_page_and_a_label_round_trip_import_none_of_the_heavy_libraries(tmp_path):
    stages = run_fresh(ROUND_TRIP, tmp_path)

    assert list(stages) == ["urlconf", "login page", "label round trip", "import"]
    assert "django" in stages["urlconf"] and "annotate" in stages["urlconf"]
    assert {stage: [name for name in HEAVY if name in imported] for stage, imported in stages.items()} == {
        stage: [] for stage in stages
    }


EMBEDDING = """
import json, sys

from annotate import embeddings
imported = sorted({name.partition(".")[0] for name in sys.modules})
embeddings.encoder().encode(["Huawei said so."])
embedded = sorted({name.partition(".")[0] for name in sys.modules})
print(json.dumps([imported, embedded]))
"""


def test_embedding_a_sentence_does_import_onnxruntime_and_tokenizers(tmp_path):
    before, after = run_fresh(EMBEDDING, tmp_path)

    assert [name for name in HEAVY if name in before] == []
    assert {"onnxruntime", "tokenizers", "numpy"} <= set(after)


def test_training_a_model_does_import_scikit_learn(tmp_path):
    before, after = run_fresh(TRAINING, tmp_path)

    assert [name for name in HEAVY if name in before] == []
    assert {"numpy", "sklearn", "scipy"} <= set(after)


def test_serving_the_api_leaves_the_schema_generator_unimported_until_the_schema_is_made(tmp_path):
    schema = tmp_path / "openapi.yaml"

    found = run_fresh(SCHEMA, tmp_path, str(schema))

    assert found["status"].startswith("401")
    assert found["served"] == []
    assert set(found["schema"]) == set(GENERATOR)
    assert schema.read_text() == (ROOT / "docs" / "openapi.yaml").read_text()


# A server on SQLite, from its WSGI module as gunicorn loads it: the PostgreSQL driver (about
# 10 MB a worker, imported by DRF through django.contrib.postgres) stays on disk.
SQLITE_SERVER = """
import io, json, os, sys

os.environ["ALLOWED_HOSTS"] = "localhost"
from stance.wsgi import application
from django.core.management import call_command

call_command("migrate", verbosity=0)
answered = []
for path in ("/accounts/login/", "/api/targets/"):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
    }
    b"".join(application(environ, lambda status, headers: answered.append(status)))
print(json.dumps({"answered": answered, "psycopg": [name for name in sys.modules if name.startswith("psycopg") and sys.modules[name] is not None]}))
"""


def test_a_server_on_sqlite_serves_the_app_and_the_api_without_the_postgresql_driver(tmp_path):
    found = run_fresh(SQLITE_SERVER, tmp_path)

    assert found["answered"] == ["200 OK", "401 Unauthorized"]
    assert found["psycopg"] == []
