"""The book's random search as one study run: `search` plans each setting as its own override would, the
settings train stacked to the bits each trains to alone, and their L2 strengths are values, not compiled code."""
import keras
import pytest

from studies.config.settings import ConfigError
from studies.data.datasets import load_dataset
from studies.data.splits import make_splits
from studies.engines.fast import FastEngine
from studies.run.plan import plan_study
from studies.run.sweeps import search_configs
from tests.helpers import Quiet, assert_same_bits, compose_config
from tests.test_stack_reuse import key, mlp, traces  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

KEYS = ["study.optimizer.learning_rate", "study.model.kernel_regularizer.l2"]
# The first three settings the book_random_search sweeper drew for the committed reports (Optuna's seeded
# random sampler, one job per setting then).
SETTINGS = [[0.00015676677195506063, 3.628502860797136e-06], [0.0002576638574613588, 7.559668233820505e-07],
            [4.9501595537331986e-05, 1.9166660780783317e-06]]
RUN = ("study=hyperparameters", "variant=book", "n_seeds=1", "profile=smoke", "data.download=false")


def searched(*overrides):
    return {**compose_config(*RUN, *overrides), "search": {"keys": KEYS, "values": SETTINGS}}


def test_each_setting_of_a_search_plans_the_trials_its_overrides_plan():
    together = [plan_study(setting).trials for setting in search_configs(searched())]
    alone = [plan_study(compose_config(*RUN, *(f"{key}={value}" for key, value in zip(KEYS, row)))).trials
             for row in SETTINGS]
    assert [[t.trial_id for t in trials] for trials in together] == [[t.trial_id for t in trials] for trials in alone]
    assert len({trials[0].trial_id for trials in together}) == len(SETTINGS)


@pytest.mark.parametrize("search, message", [
    ({"keys": ["study.optimizer.momentum_typo"], "values": [[0.1]]}, "names no setting"),
    ({"keys": ["study.optimizer"], "values": [[0.1]]}, "not a mapping or group"),
    ({"keys": KEYS, "values": [[0.1]]}, "one value per key"),
    ({"keys": KEYS}, "one value per key"),
    ({"keys": KEYS, "values": [[0.1, 0.2]], "rows": 1}, "unknown key(s) rows"),
])
def test_a_bad_search_is_refused_in_one_line(search, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        search_configs({**compose_config(*RUN), "search": search})
    assert "\n" not in str(error.value)


def train(trials, dataset, tmp_path, **settings) -> dict:
    """Trial id -> result (a search's trials share arm and seed)."""
    engine = FastEngine({"name": "fast", **settings}, tmp_path)
    splits = lambda trial: make_splits(dataset, trial.dataset, trial.seed)  # noqa: E731
    return {result.trial.trial_id: result for result in engine.run(trials, splits, Quiet())}


def test_a_search_s_settings_train_stacked_to_the_bits_each_trains_to_alone(tmp_path):
    trials = [plan_study(setting).trials[0] for setting in search_configs(searched())]
    mnist = load_dataset("mnist", download=False)
    alone = train(trials, mnist, tmp_path, max_replicas=1)  # as the sweeper ran them: a job, a stack each
    together = train(trials, mnist, tmp_path)
    assert len(together) == len(SETTINGS)
    assert_same_bits(together, alone)
    assert len({result.curves[("val", "loss")][-1] for result in together.values()}) == len(SETTINGS)


def test_stacks_of_other_regularizer_strengths_share_a_program(tmp_path, traces):  # noqa: F811 (the fixture)
    trials = [plan_study(setting).trials[0] for setting in search_configs(searched())]
    mnist = load_dataset("mnist", download=False)
    _, traced_once = traces(trials[:2], mnist, tmp_path)
    _, traced = traces(trials, mnist, tmp_path, max_replicas=2)  # two stacks of two: the third with a stand-in
    assert traced == traced_once > 0


def test_the_program_key_holds_l1_and_l2_by_class_and_other_regularizers_by_their_settings():
    l2, l1 = keras.regularizers.L2, keras.regularizers.L1
    assert key([mlp(0, regularizer=l2(0.1)), mlp(1, regularizer=l2(1e-6))]) == key([mlp(0, regularizer=l2(0.5))] * 2)
    assert key([mlp(0, regularizer=l1(0.1))] * 2) == key([mlp(0, regularizer=l1(0.2))] * 2)
    assert key([mlp(0, regularizer=l1(0.1))] * 2) != key([mlp(0, regularizer=l2(0.1))] * 2)
    l1l2 = keras.regularizers.L1L2
    assert key([mlp(0, regularizer=l1l2(0.1, 0.1))] * 2) != key([mlp(0, regularizer=l1l2(0.2, 0.1))] * 2)
