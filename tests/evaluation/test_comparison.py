import json

from imgclf.evaluation.comparison import published_figure, summary_markdown


def test_published_figures_match_dataset_and_kind():
    assert published_figure("mnist5k", ("cnn", "lenet")) == "98.9%"
    assert published_figure("mnist", ("mlp", (128, 64))) == "97.0%"
    assert published_figure("cifar10", ("cnn", "lenet")) == ""


def test_summary_holds_every_model():
    results = {"logreg": {"accuracy": 0.9, "log_loss": 0.3}, "lenet": {"accuracy": 0.98, "ece": 0.01}}
    summary = summary_markdown(results, {"lenet": "98.9%"}, "mnist5k")
    assert "| lenet | 0.9800 |" in summary and "98.9%" in summary and "| logreg | 0.9000 |" in summary


def test_write_comparison_writes_the_summary_and_the_page(shared_page):
    page = shared_page(2)
    summary = (page.parent / "summary.md").read_text()
    assert "| model_0 |" in summary and "| model_1 |" in summary
    assert page.read_text().count('<section id="model-') == 2
    assert json.loads((page.parent / "plots" / "roc" / "model_0.json").read_text())
