"""The evaluation wing: test metrics, chart data, PNG charts, each model's report, the
comparison page and the pull-request report."""
