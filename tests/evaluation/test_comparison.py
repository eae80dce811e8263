import base64

from imgclf.evaluation.comparison import published_figure, write_comparison


def test_published_figures_match_dataset_and_kind():
    assert published_figure("mnist5k", ("cnn", "lenet")) == "98.9%"
    assert published_figure("mnist", ("mlp", (128, 64))) == "97.0%"
    assert published_figure("cifar10", ("cnn", "lenet")) == ""


def test_summary_and_page_hold_every_model(tmp_path):
    results = {"logreg": {"accuracy": 0.9, "log_loss": 0.3}, "lenet": {"accuracy": 0.98, "ece": 0.01}}
    published = {"lenet": "98.9%"}
    png = b"\x89PNG\r\n\x1a\nfake"
    for name in results:
        (tmp_path / "figs" / name).mkdir(parents=True)
        (tmp_path / "figs" / name / "confusion.png").write_bytes(png)
    write_comparison(results, published, tmp_path / "figs", "mnist5k", tmp_path / "s.md", tmp_path / "i.html")
    summary = (tmp_path / "s.md").read_text()
    assert "| lenet | 0.9800 |" in summary and "98.9%" in summary
    page = (tmp_path / "i.html").read_text()
    assert page.count("<section") == 2 and 'id="logreg"' in page and 'id="lenet"' in page
    assert base64.b64encode(png).decode() in page  # images embedded: readable offline
    assert "src=\"http" not in page
