"""train_cnn: train the Keras CNN declared in params; save it as .keras and track it."""

import mlflow

from imgclf import layout
from imgclf.cnn import build_cnn, preset
from imgclf.dataset import load_imageset
from imgclf.errors import run_stage
from imgclf.model_store import save_model
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params
from imgclf.tracking import epoch_logger, log_model, model_run
from imgclf.training import compile_model, fit, seed_everything

STAGE = "train_cnn"
NAME = "cnn"


def main() -> None:
    params = load_params()
    cnn = params.train_cnn
    train = load_imageset(layout.split_file("train"))
    validation = load_imageset(layout.split_file("validation"))
    seed_everything(params.seed)
    model = build_cnn(preset(cnn.architecture), train.images.shape[1:], len(train.class_names), NAME)
    compile_model(model, cnn)
    with model_run(params.mlflow.experiment, STAGE, NAME, {"seed": params.seed, **cnn.model_dump()}) as run_id:
        mlflow.log_param("trainable_weights", model.count_params())
        history = fit(model, train, validation, cnn, callbacks=[epoch_logger()])
        log_model(model, "keras")
    with atomic_dir(layout.CNN) as out:
        save_model(out, model, "keras", {
            "name": NAME, "stage": STAGE, "mlflow_run_id": run_id,
            "class_names": list(train.class_names), "input_shape": list(train.images.shape[1:]),
        })
        write_json(out / "history.json", {k: [float(v) for v in vs] for k, vs in history.history.items()})


if __name__ == "__main__":
    run_stage(main)
