"""The image model logged to a real MLflow store, loaded back as MLflow loads it to serve."""

import base64
import json
from importlib.metadata import version
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd

from imgclf.serving.image_model import ImageModel
from imgclf.serving.logged_model import log_image_model, png_base64, signature
from imgclf.tracking.store import use_experiment
from tests.helpers import write_jpeg


def test_png_base64_gives_the_image_back():
    rgb = np.random.default_rng(0).integers(0, 255, (6, 5, 3), dtype=np.uint8)
    gray = rgb[:, :, :1].copy()
    for image, flag in ((rgb, cv2.IMREAD_COLOR), (gray, cv2.IMREAD_GRAYSCALE)):
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(png_base64(image)), np.uint8), flag)
        if image.shape[2] == 3:
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(decoded.reshape(image.shape), image)


def test_signature_names_the_input_and_each_class():
    sig = signature(["cat", "dog"])
    assert sig.inputs.input_names() == ["image"] and sig.inputs.input_types()[0].name == "string"
    assert sig.outputs.input_names() == ["predicted", "p_cat", "p_dog", "uncertain", "error"]


def test_the_logged_model_loads_as_mlflow_serves_it_and_answers_as_the_folder_does(store, model_dir, tmp_path):
    use_experiment("exp")
    examples = [np.full((16, 16, 1), 20, np.uint8), np.full((16, 16, 1), 230, np.uint8)]
    with mlflow.start_run():
        uri = log_image_model(model_dir, (0.1, 0.9), 5000, examples)
    loaded = mlflow.pyfunc.load_model(uri)
    assert isinstance(loaded.unwrap_python_model(), ImageModel)
    assert loaded.metadata.get_input_schema().input_names() == ["image"]
    local = mlflow.artifacts.download_artifacts(uri)
    files = {p.name for p in Path(local).rglob("*")}
    assert not {f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))}  # a model from code
    assert {"model.skops", "model.json", "image_model.py", "serving_input_example.json", "decoding.py"} <= files
    assert not {f for f in files if f.endswith(".pyc")}  # the package's sources only
    reqs = open(mlflow.pyfunc.get_model_dependencies(uri)).read().split()
    for library in ("mlflow", "scikit-learn", "skops", "pandas", "numpy"):
        assert f"{library}=={version(library)}" in reqs
    assert not [r for r in reqs if r.startswith("tensorflow")]

    night = write_jpeg(tmp_path / "night.jpg", value=10, color=(10, 10, 10))
    big = write_jpeg(tmp_path / "big.jpg", height=80, width=80, value=250, color=(250, 250, 250))  # 6400 > 5000
    frame = pd.DataFrame({"image": [base64.b64encode(p.read_bytes()).decode() for p in (night, big)]})
    served = loaded.predict(frame)
    direct = ImageModel.from_directory(model_dir, (0.1, 0.9), 5000).classify([night, big])
    assert served.to_dict(orient="records") == direct.to_dict(orient="records")
    assert served["error"].tolist() == [None, "too many pixels (80 x 80 = 6400, over preprocess.max_pixels 5000)"]
    # The input example: the example images as base64 PNG, which the model answers.
    example = json.loads((Path(local) / "serving_input_example.json").read_text())
    images = example["dataframe_split"]["data"]
    assert loaded.predict(pd.DataFrame({"image": [row[0] for row in images]}))["predicted"].tolist() == ["cat", "dog"]
