"""The typed schema of ``params.yaml``: the one place where parameters, their defaults and their
descriptions are written.

Every stage calls :func:`load_params`. An unknown key, a wrong type or an out-of-range value
raises :class:`~imgclf.errors.PipelineError` with the dotted key and what was expected, so a
typo in a pull request fails the stage instead of being silently ignored. The README's
parameter reference is generated from the descriptions (``python -m imgclf.params.reference``).
"""

from imgclf.params.base import Fraction, Name, Section
from imgclf.params.data import FetchParams, PreprocessParams, SplitParams
from imgclf.params.evaluation import (
    GATE_METRICS, LOWER_IS_BETTER, Bound, EvaluateParams, GateMetric, MlflowParams, RegistryParams,
)
from imgclf.params.layers import (
    ActivationLayer, BatchNormLayer, ConvLayer, DenseLayer, DropoutLayer, FlattenLayer, LayerSpec, PoolLayer, PresetName,
)
from imgclf.params.numerics import NumericsParams
from imgclf.params.pipeline import Params, load_params, parse_params
from imgclf.params.training import (
    AugmentationParams, BaselineParams, BaselinesParams, CnnParams, EarlyStoppingParams, FitParams,
    LogisticRegressionParams, MLPParams, ModelSpecParams, ReduceLrParams,
)
from imgclf.params.transfer import (
    ApplicationBase, BaseParams, FineTuneParams, HeadParams, PretrainParams, PretrainStageBase, SavedModelBase,
    TransferParams,
)

__all__ = [name for name in dir() if not name.startswith("_")]
