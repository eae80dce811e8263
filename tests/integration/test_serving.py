"""A registered image model served for real: ``make serve`` runs ``mlflow models serve`` from the
virtual environment while it is not on PATH, and real image files POSTed to ``/invocations`` get
exactly the answers ``python -m imgclf.serving.predict`` gives, bad ones a reason each while the
rest are answered.

The model is a tiny real Keras CNN logged and registered into a real SQLite store by the functions
``evaluate`` calls (``tests/integration/test_pipeline.py`` checks that ``evaluate`` registers it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import mlflow
import pytest

from imgclf.models.cnn import build_cnn
from imgclf.models.store import model_meta, save_model
from imgclf.models.training import compile_model, fit, seed_everything
from imgclf.params import FitParams, PreprocessParams
from imgclf.serving.logged_model import log_image_model
from imgclf.tracking.registry import register_candidate
from imgclf.tracking.store import use_experiment
from tests.helpers import SMALL, bomb_png, make_imageset
from tests.integration.mlflow_server import free_port, serving
from tests.integration.tiny import BIN, REPO

pytestmark = pytest.mark.integration
GREY_ZONE = (0.25, 0.75)
BOMB_SIDE = 13_400  # 179,560,000 pixels: just over preprocess.max_pixels' default
NAMES = ("class0", "class1", "class2")


def user_env(root: Path) -> dict[str, str]:
    """A user's shell in ``root``: the virtual environment not on PATH, no MLflow, DVC or make
    settings of ours, the sources importable."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "DVC_")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p and Path(p).resolve() != BIN.resolve())
    env["PYTHONPATH"] = str(REPO / "src")
    return env


def train_and_register(clone: Path) -> Path:
    """A tiny CNN trained on 12x12 band images, saved as a stage saves it, logged as an image model
    and registered as ``image-classifier@candidate`` in ``clone``'s embedded store; its folder."""
    seed_everything(0)
    train = make_imageset(seed=0)
    model = build_cnn(SMALL, train.images.shape[1:], 3)
    params = FitParams(epochs=8, batch_size=8, learning_rate=0.01)
    compile_model(model, params)
    fit(model, train, make_imageset(seed=1), params, seed=0)
    directory = clone / "models/cnn/tiny"
    save_model(directory, model, "keras", model_meta("tiny", "train_cnn", train, PreprocessParams(image_size=(12, 12))))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DVC_ROOT", str(clone))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        previous = mlflow.get_tracking_uri()
        try:
            use_experiment("image-classification")
            with mlflow.start_run():
                uri = log_image_model(directory, GREY_ZONE, PreprocessParams().max_pixels, train.images[:2])
            register_candidate("image-classifier", uri, {"accuracy >= 0.2": True}, tags={"model": "tiny"})
        finally:
            mlflow.set_tracking_uri(previous)
    return directory


def image_files(folder: Path) -> list[Path]:
    """A real JPEG per class (a 48x48 band image), then a JPEG cut short, a text file and a PNG bomb."""
    folder.mkdir()
    data, files = make_imageset(n_per_class=1, size=48, seed=5), []
    for image, label in zip(data.images, data.labels):
        files.append(folder / f"{NAMES[label]}.jpg")
        assert cv2.imwrite(str(files[-1]), image)
    (folder / "cut.jpg").write_bytes(files[0].read_bytes()[:200])
    (folder / "notes.jpg").write_text("a shopping list, not a picture")
    (folder / "bomb.png").write_bytes(bomb_png(BOMB_SIDE))
    return files + [folder / "cut.jpg", folder / "notes.jpg", folder / "bomb.png"]


def predicted(directory: Path, files: list[Path]) -> list[dict]:
    """``predict``'s rows for ``files``, from a fresh process in the server's environment (this
    process's TensorFlow may have loaded under other numerics settings than a user's shell gives)."""
    script = ("import json, sys; from pathlib import Path; from imgclf.serving.predict import predict; "
              "table = predict(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]], (%r, %r)); "
              "print(json.dumps(table.drop(columns='file').to_dict(orient='records')))" % GREY_ZONE)
    result = subprocess.run([sys.executable, "-c", script, str(directory), *map(str, files)], cwd=directory,
                            env=user_env(directory.parents[2]), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def invoke(url: str, body: bytes) -> list[dict]:
    request = urllib.request.Request(f"{url}/invocations", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return json.loads(response.read())["predictions"]


def images_body(items: list) -> bytes:
    return json.dumps({"inputs": {"image": items}}).encode()


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``make serve`` in a user's clone (its Makefile, its .venv, its mlflow.db) on a free port:
    the URL, the model's folder and the image files."""
    clone = tmp_path_factory.mktemp("clone")
    shutil.copy2(REPO / "Makefile", clone / "Makefile")
    (clone / ".venv").symlink_to(BIN.parent)  # what `make install` made
    directory = train_and_register(clone)
    files = image_files(clone / "mine")
    env = user_env(clone)
    assert shutil.which("uvicorn", path=env["PATH"]) is None  # the bare command would fail: rc 127
    port = free_port()
    command = ["make", "-o", ".venv/.installed", "serve", f"PORT={port}"]  # -o: never reinstall the shared .venv
    with serving(command, f"http://127.0.0.1:{port}/ping", clone / "serve.log", timeout=180, cwd=clone, env=env):
        yield f"http://127.0.0.1:{port}", directory, files


def test_real_images_get_the_answers_predict_gives(server):
    url, directory, files = server
    answers = invoke(url, images_body([b64(path) for path in files]))
    expected = predicted(directory, files)
    assert answers == expected  # every field, every probability to the last bit
    for name, answer in zip(NAMES, answers):
        assert answer["predicted"] == name and answer["error"] is None and isinstance(answer["uncertain"], bool)
        assert sum(answer[f"p_{n}"] for n in NAMES) == pytest.approx(1.0)
    one = predicted(directory, files[:1])
    assert invoke(url, images_body([b64(files[0])])) == one  # a batch of one
    assert invoke(url, json.dumps({"dataframe_records": [{"image": b64(files[0])}]}).encode()) == one


def test_bad_items_get_a_reason_each_and_the_rest_are_answered(server):
    url, _, files = server
    good, cut, notes, bomb = files[1], *files[3:]
    answers = invoke(url, images_body([b64(cut), b64(good), b64(notes), b64(bomb), "not base64!", None]))
    limit = PreprocessParams().max_pixels
    assert [answer["error"] for answer in answers] == [
        "truncated JPEG (no end-of-image marker)", None, "not a decodable image",
        f"too many pixels ({BOMB_SIDE} x {BOMB_SIDE} = {BOMB_SIDE ** 2}, over preprocess.max_pixels {limit})",
        "not base64 (Only base64 data is allowed)", "no image (expected base64 text)",
    ]
    assert answers[1]["predicted"] == "class1"
    for answer in answers[:1] + answers[2:]:
        assert {key for key, value in answer.items() if value is not None} == {"error"}


def test_the_logged_input_example_is_a_request_the_server_answers(server):
    url, directory, _ = server
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{directory.parents[2] / 'mlflow.db'}")
    version = client.get_model_version_by_alias("image-classifier", "candidate")
    artifacts = Path(urllib.parse.urlparse(client.get_model_version_download_uri("image-classifier", version.version)).path)
    answers = invoke(url, (artifacts / "serving_input_example.json").read_bytes())
    assert [answer["predicted"] for answer in answers] == ["class0", "class0"]  # make_imageset's first two images
