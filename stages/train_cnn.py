"""train_cnn NAME: train the Keras CNN `train_cnn.NAME` of params; save it and track it."""

import sys

from imgclf import layout
from imgclf.models.cnn import build_cnn
from imgclf.data.dataset import load_imageset
from imgclf.errors import PipelineError, run_stage
from imgclf.models.store import model_meta, save_model
from imgclf.outputs import atomic_dir, write_json
from imgclf.models.presets import layer_specs
from imgclf.numerics import record
from imgclf.params import load_params
from imgclf.tracking.runs import epoch_logger, model_run
from imgclf.tracking.preflight import check_tracking_store
from imgclf.models.training import compile_model, distribution_strategy, fit, seed_everything

STAGE = "train_cnn"


def main() -> None:
    params = load_params()
    check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    name = sys.argv[1] if len(sys.argv) == 2 else None
    if name not in params.train_cnn:
        raise PipelineError(f"usage: python -m stages.train_cnn NAME, NAME one of {', '.join(params.train_cnn)}")
    cnn = params.train_cnn[name]
    train = load_imageset(layout.split_file("train"))
    validation = load_imageset(layout.split_file("validation"))
    seed_everything(params.seed)
    with distribution_strategy(cnn.distribution).scope():
        model = build_cnn(layer_specs(cnn.architecture), train.images.shape[1:], len(train.class_names), name,
                          cnn.weight_decay, cnn.augmentation, cnn.mixed_precision)
        compile_model(model, cnn)
    data = [layout.split_file("train"), layout.split_file("validation")]
    with model_run(params, STAGE, name, cnn.model_dump(), data) as run:
        run.log_params({"weights": model.count_params()})
        history = fit(model, train, validation, cnn, callbacks=[epoch_logger(run)])
        run.log_model(model, "keras")
    with atomic_dir(layout.CNN / name) as out:
        saved = save_model(out, model, "keras", model_meta(name, STAGE, train, params.preprocess,
                                                           numerics=record(params.numerics),
                                                           **({"mixed_precision": cnn.mixed_precision} if cnn.mixed_precision else {})))
        run.link(saved)
        write_json(out / "history.json", {k: [float(v) for v in vs] for k, vs in history.history.items()})


if __name__ == "__main__":
    run_stage(main)
