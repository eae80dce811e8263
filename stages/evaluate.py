"""evaluate: every model of params.yaml on the same test split; metrics, DVC plots, PNG charts."""

import mlflow

from imgclf import layout
from imgclf.dataset import load_imageset
from imgclf.errors import run_stage
from imgclf.model_store import load_model
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params
from imgclf.reports import check_same_classes, write_model_report
from imgclf.tracking import resume_run


def main() -> None:
    params = load_params()
    directories = layout.model_dirs([m.name for m in params.train_baselines.models], list(params.train_cnn))
    test = load_imageset(layout.split_file("test"))
    results: dict[str, dict[str, float]] = {}
    with atomic_dir(layout.PLOTS) as plots, atomic_dir(layout.FIGURES) as figures:
        for directory in directories:
            model = load_model(directory)
            check_same_classes(model.name, model.meta["class_names"], test.class_names)
            metrics = write_model_report(
                model.name, test.labels, model.predict_proba(test.images), test.class_names,
                plots, figures, params.evaluate.calibration_bins, params.evaluate.lift_bins,
            )
            with resume_run(params.mlflow.experiment, model.meta["mlflow_run_id"]):
                mlflow.log_metrics({f"test_{k}": v for k, v in metrics.items()})
                mlflow.log_artifacts(str(figures / model.name), artifact_path="evaluation")
            results[model.name] = metrics
            print(f"evaluate: {model.name:<12} accuracy {metrics['accuracy']:.4f}  log loss {metrics['log_loss']:.4f}")
    write_json(layout.METRICS, results)


if __name__ == "__main__":
    run_stage(main)
