from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from imgclf.params.sweep import Range, parse_sweep
from imgclf.tracking.sweep_optuna import distribution, random_values

SWEEP = {"method": "random", "trials": 5, "seed": 4, "metric": {"key": "lenet.accuracy", "direction": "maximize"},
         "params": {"train_cnn.lenet.learning_rate": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
                    "train_cnn.lenet.batch_size": {"low": 16, "high": 128, "type": "int", "step": 16},
                    "train_cnn.lenet.optimizer": ["adam", "sgd"]}}


def test_lists_are_categories_and_ranges_keep_their_scale():
    assert distribution(["adam", "sgd"]) == CategoricalDistribution(["adam", "sgd"])
    assert distribution(Range(low=1e-4, high=1e-2, log=True)) == FloatDistribution(1e-4, 1e-2, log=True)
    assert distribution(Range(low=16, high=128, type="int", step=16)) == IntDistribution(16, 128, step=16)


def test_random_draws_are_seeded_and_inside_their_ranges():
    sweep = parse_sweep(SWEEP, "s.yaml")
    draws = random_values(sweep)
    assert draws == random_values(sweep) and len(draws) == 5
    assert draws != random_values(parse_sweep({**SWEEP, "seed": 5}, "s.yaml"))
    for draw in draws:
        assert 1e-4 <= draw["train_cnn.lenet.learning_rate"] <= 1e-2
        assert draw["train_cnn.lenet.batch_size"] in range(16, 129, 16)
        assert draw["train_cnn.lenet.optimizer"] in ("adam", "sgd")
    assert len({d["train_cnn.lenet.learning_rate"] for d in draws}) == 5


def test_a_retried_trial_and_the_next_are_seeded_apart():
    """A sweep stopped while Optuna was still drawing a trial's values leaves it without any; on
    resume it is failed and queued again. The retry and the trial after it once got the same seed,
    and drew the same values: two trials of one configuration."""
    import optuna
    from optuna.trial import TrialState

    from imgclf.tracking.sweep_optuna import next_trial_number

    study = optuna.create_study()
    for number in range(2):
        assert next_trial_number(study) == number
        study.tell(study.ask({"x": FloatDistribution(0, 1)}), 0.5)
    stopped = study.ask()  # the Ctrl-C came before its values were drawn
    study.tell(stopped, state=TrialState.FAIL)
    study.enqueue_trial(stopped.params, user_attrs={"retry_of": stopped.number})
    numbers = []
    for _ in range(2):
        numbers.append(next_trial_number(study))
        study.tell(study.ask({"x": FloatDistribution(0, 1)}), 0.5)
    assert numbers == [3, 4] == [t.number for t in study.trials[3:]]
