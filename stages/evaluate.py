"""evaluate: every model of params.yaml on the same test split; metrics, DVC plots, PNG charts,
one comparison page; everything logged to MLflow."""

from functools import partial

import mlflow

from imgclf import layout
from imgclf.data.parts import ShardedPart, open_part
from imgclf.errors import run_stage
from imgclf.evaluation.comparison import published_figure, write_comparison
from imgclf.evaluation.model_card import CardFacts, dataset_facts, model_card, stage_params
from imgclf.evaluation.ranking import ranking
from imgclf.evaluation.report import ModelEvaluation, check_same_classes, write_model_report
from imgclf.models.gradcam import gradcam, last_conv_path
from imgclf.models.inference import conv_activations
from imgclf.models.loading import LoadedModel, load_model
from imgclf.numerics import record
from imgclf.outputs import atomic_dir, atomic_path, read_json, write_json
from imgclf.params import EvaluateParams, Params, load_params
from imgclf.serving.logged_model import log_image_model
from imgclf.tracking.lineage import find_model_run
from imgclf.tracking.registry import describe_verdict, gate_verdict, register_candidate
from imgclf.tracking.run_index import write_run_index
from imgclf.tracking.runs import add_to_finished_run, model_run
from imgclf.tracking.preflight import check_tracking_store, store_must_answer
from imgclf.tracking.store import tracking_uri


def model_kinds(params: Params) -> dict[str, tuple]:
    """What kind of model each name is, to find the tutorial figure to compare with."""
    kinds: dict[str, tuple] = {"transfer": ("transfer",)}
    for spec in params.train_baselines.models:
        kinds[spec.name] = ("mlp", tuple(spec.hidden_layer_sizes)) if spec.kind == "mlp" else (spec.kind,)
    for name, cnn in params.train_cnn.items():
        kinds[name] = ("cnn", cnn.architecture if isinstance(cnn.architecture, str) else "custom")
    return kinds


def evaluation_of(model: LoadedModel, directory, test: ShardedPart, validation: ShardedPart,
                  ev: EvaluateParams) -> ModelEvaluation:
    """What one model's report is drawn from: its test probabilities, history, feature maps and Grad-CAM.
    The parts stay on disk: a CNN reads them a batch at a time, the report the few images it shows."""
    history = read_json(directory / "history.json") if (directory / "history.json").exists() else None
    maps, explain = None, None
    if model.meta["framework"] == "keras":
        if ev.feature_map_images:
            maps = conv_activations(model.model, test[: ev.feature_map_images])
        explain = partial(gradcam, model.model) if last_conv_path(model.model) else None
    return ModelEvaluation(
        model.name, test.labels, model.predict_proba(test), test.class_names, history=history,
        images=test, feature_maps=maps, explain=explain,
        validation=(validation.labels, model.predict_proba(validation)),
    )


def best_model_card(params: Params, verdict: dict, results: dict, evaluation: ModelEvaluation, model: LoadedModel,
                    numerics: dict, in_store: bool) -> str:
    """The model card of the gate's best model (registered or not; ``in_store``: its MLflow run is in the store)."""
    stage = model.meta["stage"]
    facts = CardFacts(model.name, stage, stage_params(params, stage, model.name), model.meta["preprocess"],
                      evaluation.class_names, evaluation.y_true, evaluation.proba, results[model.name],
                      dataset_facts(params.fetch.source), numerics.get(f"{stage}/{model.name}"), verdict, in_store)
    return model_card(facts, params.evaluate, params.seed)


def main() -> None:
    params = load_params()
    check_tracking_store(params)  # before any work: a store that cannot be used stops the stage here
    with store_must_answer("evaluate"):
        evaluate(params)


def evaluate(params: Params) -> None:
    """Score every trained model on the test split, write the reports, log them and register the best."""
    ev, experiment = params.evaluate, params.mlflow.experiment
    directories = layout.model_dirs([m.name for m in params.train_baselines.models], list(params.train_cnn))
    test = open_part("test")
    validation = open_part("validation")
    results: dict[str, dict[str, float]] = {}
    numerics: dict[str, dict] = {"evaluate": record(params.numerics)}
    evaluations: dict[str, tuple[ModelEvaluation, LoadedModel]] = {}  # for the best model's card
    trained: dict[str, tuple] = {}  # each model found in the store: (its folder, its training run's id)
    runs: dict[str, str] = {}  # every MLflow run behind these results, by run name
    correct: dict[str, object] = {}  # per test image, whether each model got it right: the paired intervals
    with atomic_dir(layout.PLOTS) as plots, atomic_dir(layout.FIGURES) as figures:
        for directory in directories:
            model = load_model(directory)
            check_same_classes(model.name, model.meta["class_names"], test.class_names)
            evaluation = evaluation_of(model, directory, test, validation, ev)
            metrics = write_model_report(evaluation, ev, params.seed, plots, figures, previous=layout.FIGURES)
            results[model.name], evaluations[model.name] = metrics, (evaluation, model)
            correct[model.name] = evaluation.proba.argmax(axis=1) == test.labels
            numerics[f"{model.meta['stage']}/{model.name}"] = model.meta.get("numerics")
            run = find_model_run(experiment, directory / model.meta["file"])
            if run is None:
                print(f"evaluate: no run in the MLflow store {tracking_uri()} saved {directory} (trained against another "
                      "store?); its test metrics are in evaluate/comparison's metrics.json only")
            else:
                runs[run.info.run_name], trained[model.name] = run.info.run_id, (directory, run.info.run_id)
                scored = {k if k.startswith("validation_") else f"test_{k}": v for k, v in metrics.items()}
                add_to_finished_run(experiment, run.info.run_id, scored, figures / model.name, "evaluation")
            print(f"evaluate: {model.name:<12} accuracy {metrics['accuracy']:.4f}  log loss {metrics['log_loss']:.4f}")
        if params.transfer.base.kind == "pretrain_stage" and (base := find_model_run(experiment, layout.PRETRAINED / "model.keras")):
            runs[base.info.run_name] = base.info.run_id
        kinds = model_kinds(params)
        published = {name: published_figure(params.fetch.source, kinds[name]) for name in results}
        dataset = f"{params.fetch.source}, {len(test)} test images, classes {', '.join(test.class_names)}"
        ranked = ranking(results, correct, ev.registry.select_by, ev, params.seed)
        write_json(plots / "ranking.json", ranked)
        write_comparison(results, published, ranked, plots, figures, dataset, ev.confidence_level, layout.SUMMARY,
                         layout.PAGE)
    write_json(layout.METRICS, results)
    write_json(layout.NUMERICS, numerics)
    verdict = gate_verdict(results, ev.registry)
    card = best_model_card(params, verdict, results, *evaluations[verdict["model"]], numerics,
                           verdict["model"] in trained)
    write_json(layout.REGISTRY, verdict)
    with atomic_path(layout.MODEL_CARD) as tmp:
        tmp.write_text(card)
    version = None
    with model_run(params, "evaluate", "comparison", {"models": ",".join(results)}, layout.data_files("test")) as comparison:
        comparison.log_metric("gate_passed", float(verdict["gate_passed"]))
        for path in (layout.SUMMARY, layout.PAGE, layout.METRICS, layout.REGISTRY, layout.NUMERICS, layout.MODEL_CARD):
            mlflow.log_artifact(str(path))
        if verdict["registered_model"] and verdict["model"] in trained:
            # What is registered is the model that serves images: it decodes and preprocesses as training did.
            directory, training_run = trained[verdict["model"]]
            model_uri = log_image_model(directory, ev.grey_zone, params.preprocess.max_pixels, test[:2])
            version = register_candidate(verdict["registered_model"], model_uri, verdict["gate"], card=card,
                                         tags={"model": verdict["model"], "training_run": training_run})
    print(f"evaluate: {describe_verdict(verdict, version)}")
    registered = {"name": verdict["registered_model"], "version": version} if version else None
    write_run_index(layout.RUN_INDEX, experiment, {**runs, "evaluate/comparison": comparison.run_id}, registered)


if __name__ == "__main__":
    run_stage(main)
