import keras
import numpy as np

from imgclf.models.cnn import build_cnn
from imgclf.models.inference import BATCH, predict_proba
from tests.helpers import SMALL


def test_probabilities_are_predicts_own_numbers_batch_by_batch():
    keras.utils.set_random_seed(0)
    model = build_cnn(SMALL, (12, 12, 1), 3)
    images = np.random.default_rng(0).integers(0, 255, (2 * BATCH + 77, 12, 12, 1), dtype=np.uint8)
    expected = model.predict(images, batch_size=BATCH, verbose=0).astype(np.float64)
    p = predict_proba(model, images)
    np.testing.assert_array_equal(p, expected / expected.sum(axis=1, keepdims=True))  # bit for bit, 3 batches
    assert p.shape == (len(images), 3) and p.dtype == np.float64


def test_a_sigmoid_unit_gives_two_columns():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    p = predict_proba(model, np.zeros((5, 4), np.float32))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p.shape == (5, 2)
