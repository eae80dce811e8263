"""train_cnn NAME: train the Keras CNN `train_cnn.NAME` of params; save it and track it.

With `distribution: multi_worker` every worker of TF_CONFIG runs this stage; the chief alone
checks the store, logs the MLflow run and writes models/cnn/NAME; the other workers save into a
temporary folder, deleted at the end. Each worker prints the sha256 of its final weights."""

import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

from imgclf import layout
from imgclf.models.cnn import build_cnn
from imgclf.data.parts import open_part
from imgclf.errors import PipelineError, run_stage
from imgclf.models.multi_worker import fit_multi_worker, is_chief, tf_config, weights_digest
from imgclf.models.store import model_meta, save_model
from imgclf.outputs import atomic_dir, write_json
from imgclf.models.presets import layer_specs
from imgclf.numerics import record
from imgclf.params import load_params
from imgclf.tracking.runs import UntrackedRun, epoch_logger, model_run
from imgclf.tracking.preflight import check_tracking_store
from imgclf.models.training import class_weights, compile_model, distribution_strategy, fit, seed_everything

STAGE = "train_cnn"


@contextmanager
def scratch_dir():
    """A non-chief worker's output folder: written as the chief's is, then deleted."""
    with tempfile.TemporaryDirectory(prefix="train_cnn-worker-") as folder:
        yield Path(folder)


def main() -> None:
    params = load_params()
    name = sys.argv[1] if len(sys.argv) == 2 else None
    if name not in params.train_cnn:
        raise PipelineError(f"usage: python -m stages.train_cnn NAME, NAME one of {', '.join(params.train_cnn)}")
    cnn = params.train_cnn[name]
    multi = cnn.distribution == "multi_worker"
    chief = is_chief() if multi else True
    if multi:  # TensorFlow's collectives are configured before anything else touches TensorFlow
        seed_everything(params.seed)
        strategy = distribution_strategy(cnn.distribution)
    if chief:
        check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    # Streamed from the shards a batch at a time (each worker of a multi-worker run its own share).
    train, validation = (open_part(n) for n in ("train", "validation"))
    if not multi:
        seed_everything(params.seed)
        strategy = distribution_strategy(cnn.distribution)
    with strategy.scope():
        model = build_cnn(layer_specs(cnn.architecture), train.image_shape, len(train.class_names), name,
                          cnn.weight_decay, cnn.augmentation, cnn.mixed_precision)
        compile_model(model, cnn)
    data = layout.data_files("train", "validation")
    tracking = model_run(params, STAGE, name, cnn.model_dump(), data) if chief else nullcontext(UntrackedRun())
    with tracking as run:
        run.log_params({"weights": model.count_params()})
        if multi:
            weights = class_weights(train.labels, len(train.class_names), cnn.class_weight)
            history = fit_multi_worker(model, strategy, train, validation, cnn, [epoch_logger(run)], params.seed, weights)
        else:
            history = fit(model, train, validation, cnn, callbacks=[epoch_logger(run)], seed=params.seed,
                          augmentation=cnn.augmentation)
        run.log_model(model, "keras")
    with atomic_dir(layout.CNN / name) if chief else scratch_dir() as out:
        saved = save_model(out, model, "keras", model_meta(name, STAGE, train, params.preprocess,
                                                           numerics=record(params.numerics),
                                                           **({"mixed_precision": cnn.mixed_precision} if cnn.mixed_precision else {})))
        run.link(saved)
        write_json(out / "history.json", {k: [float(v) for v in vs] for k, vs in history.history.items()})
    if multi:
        task = tf_config()["task"]
        print(f"train_cnn {name}: {task['type']} {task['index']} of {strategy.num_replicas_in_sync} replicas, "
              f"{'chief' if chief else 'not the chief (nothing written)'}, weights sha256 {weights_digest(model)}",
              flush=True)


if __name__ == "__main__":
    run_stage(main)
