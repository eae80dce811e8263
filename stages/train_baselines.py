"""train_baselines: fit each scikit-learn model listed in params; save and track each one."""

from imgclf import layout
from imgclf.models.baselines import build_baseline
from imgclf.data.parts import load_part
from imgclf.errors import run_stage
from imgclf.models.store import model_meta, save_model
from imgclf.outputs import atomic_dir
from imgclf.numerics import record
from imgclf.params import load_params
from imgclf.tracking.runs import model_run
from imgclf.tracking.preflight import check_tracking_store

STAGE = "train_baselines"


def main() -> None:
    params = load_params()
    check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    train = load_part("train")
    validation = load_part("validation")
    data = layout.data_files("train", "validation")
    with atomic_dir(layout.BASELINES) as out:
        for spec in params.train_baselines.models:
            with model_run(params, STAGE, spec.name, spec.model_dump(), data) as run:
                model = build_baseline(spec, params.seed).fit(train.images, train.labels)
                classifier = model[-1]
                for step, loss in enumerate(getattr(classifier, "loss_curve_", [])):
                    run.log_metric("loss", loss, step=step)
                metrics = {
                    "accuracy": model.score(train.images, train.labels),
                    "val_accuracy": model.score(validation.images, validation.labels),
                }
                run.log_metrics(metrics)
                run.log_model(model, "sklearn")
            meta = model_meta(spec.name, STAGE, train, params.preprocess, numerics=record(params.numerics))
            run.link(save_model(out / spec.name, model, "sklearn", meta))
            print(f"{STAGE}: {spec.name} validation accuracy {metrics['val_accuracy']:.4f}")


if __name__ == "__main__":
    run_stage(main)
