import matplotlib.pyplot as plt
import numpy as np
import pytest

from imgclf.evaluation.image_charts import image_grid_panel, image_style


def test_an_image_grid_draws_each_image_over_its_own_range_in_rows_on_one_axes():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (8, 8, 1), dtype=np.uint8)
    colour = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)  # wider than high
    small, large = rng.random((4, 4)), 100 + 50 * rng.random((4, 4))
    cells = [image_style(grey), image_style(colour), (small, "viridis"), (large, "viridis")]
    fig, ax = plt.subplots()
    drawn = image_grid_panel(cells, ["grey", "colour", "", "large"], columns=3, title_space=0.2, fontsize=7, ax=ax)
    assert [image.axes for image in drawn] == [ax] * 4 and fig.axes == [ax]
    assert [image.get_cmap().name for image in drawn[::2]] == ["gray", "viridis"]
    np.testing.assert_array_equal(drawn[0].get_array(), grey[..., 0])
    # each map coloured over its own range, as imshow alone would
    assert drawn[2].norm.vmin == small.min() and drawn[3].norm.vmin == large.min()
    # left to right, then the next row below; the wide image keeps its shape, centred
    (l0, r0, b0, t0), (l1, r1, b1, t1), (l3, _, _, t3) = (drawn[i].get_extent() for i in (0, 1, 3))
    assert l0 < l1 < r1 and t3 > b0 and l3 == l0
    assert (r1 - l1) == pytest.approx(2 * (b1 - t1)) and (t1 + b1) / 2 == pytest.approx((t0 + b0) / 2)
    assert [t.get_text() for t in ax.texts] == ["grey", "colour", "large"]
    plt.close(fig)
