"""transfer: a pretrained base frozen under a new head, then fine-tuned; one MLflow run."""

from imgclf import layout
from imgclf.data.parts import open_part
from imgclf.errors import run_stage
from imgclf.models.store import model_meta, save_model
from imgclf.outputs import atomic_dir, write_json
from imgclf.numerics import record
from imgclf.params import load_params
from imgclf.tracking.runs import epoch_logger, model_run
from imgclf.tracking.preflight import check_tracking_store
from imgclf.models.training import compile_model, fit, seed_everything
from imgclf.models.transfer import (
    base_layer_index, build_transfer_model, joined_history, load_base, trainable_weight_count, unfreeze_from,
)

STAGE = "transfer"
NAME = "transfer"


def main() -> None:
    params = load_params()
    check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    tp = params.transfer
    train, validation = open_part("train"), open_part("validation")  # streamed from the shards
    seed_everything(params.seed)
    base = load_base(tp.base, train.image_shape, layout.PRETRAINED)
    base_layer_index(base, tp.fine_tune.unfreeze_from)
    model = build_transfer_model(base, len(train.class_names), tp.head, tp.augmentation)
    data = layout.data_files("train", "validation")
    with model_run(params, STAGE, NAME, tp.model_dump(exclude={"pretrain"}), data) as run:
        compile_model(model, tp.frozen)
        run.log_metric("trainable_weights", trainable_weight_count(model), step=0)
        frozen = fit(model, train, validation, tp.frozen, callbacks=[epoch_logger(run)], seed=params.seed,
                     augmentation=tp.augmentation)

        done = len(frozen.history["loss"])
        unfreeze_from(model, tp.fine_tune.unfreeze_from, tp.fine_tune.batch_norm)
        compile_model(model, tp.fine_tune)
        run.log_metric("trainable_weights", trainable_weight_count(model), step=done)
        tuned = fit(model, train, validation, tp.fine_tune, callbacks=[epoch_logger(run)], initial_epoch=done,
                    seed=params.seed, augmentation=tp.augmentation)
        run.log_model(model, "keras")
    history = joined_history([(frozen.history, tp.frozen.learning_rate), (tuned.history, tp.fine_tune.learning_rate)])
    with atomic_dir(layout.TRANSFER) as out:
        meta = model_meta(NAME, STAGE, train, params.preprocess, fine_tune_from_epoch=done,
                          numerics=record(params.numerics))
        run.link(save_model(out, model, "keras", meta))
        write_json(out / "history.json", history)


if __name__ == "__main__":
    run_stage(main)
