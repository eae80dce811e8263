"""pretrain: train the network whose convolutional base `transfer` reuses.

It learns on a different, disjoint source (`transfer.pretrain.data`: by default scikit-learn's
8x8 digits, upscaled to the target size; for CIFAR-10's deer vs horse, the eight other
classes), never on the target's data, and is its own stage so that DVC caches it: changing a
fine-tuning parameter does not retrain it.
"""

import tempfile
from pathlib import Path


from imgclf import layout
from imgclf.models.cnn import build_cnn, without_augmentation
from imgclf.errors import run_stage
from imgclf.data.fetching import load_source
from imgclf.models.store import model_meta, save_model
from imgclf.outputs import atomic_dir
from imgclf.models.presets import layer_specs
from imgclf.numerics import record
from imgclf.params import load_params
from imgclf.data.splitting import holdout_split
from imgclf.tracking.runs import epoch_logger, model_run
from imgclf.tracking.preflight import check_tracking_store
from imgclf.models.training import compile_model, fit, seed_everything

STAGE = "pretrain"
VALIDATION_FRACTION = 0.15


def main() -> None:
    params = load_params()
    check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    pre = params.transfer.pretrain
    with tempfile.TemporaryDirectory(prefix="pretrain-") as workdir:
        source = load_source(pre.data, params.preprocess, Path(workdir))
    print(f"pretrain: {len(source)} images of {pre.data.source}, classes {', '.join(source.class_names)}")
    train, validation = holdout_split(source, VALIDATION_FRACTION, params.seed)
    seed_everything(params.seed)
    model = build_cnn(layer_specs(pre.architecture), source.image_shape, len(source.class_names), "pretrained",
                      augmentation=pre.augmentation)
    compile_model(model, pre)
    with model_run(params, STAGE, pre.data.source, pre.model_dump()) as run:
        history = fit(model, train, validation, pre, callbacks=[epoch_logger(run)], seed=params.seed,
                      augmentation=pre.augmentation)
        run.log_metric("best_val_accuracy", max(history.history["val_accuracy"]))
    with atomic_dir(layout.PRETRAINED) as out:
        meta = model_meta(f"pretrained_{pre.data.source}", STAGE, source, numerics=record(params.numerics))
        run.link(save_model(out, without_augmentation(model), "keras", meta))


if __name__ == "__main__":
    run_stage(main)
