"""Tests for fer_lib.course.plots: figures draw what they are given, titled and with readable axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fer_lib.course import plots  # noqa: E402
from fer_lib.train import _loop as training


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_kernel_grid_draws_every_kernel_of_a_first_layer():
    kernels = np.random.default_rng(0).normal(size=(3, 3, 1, 10))
    figure = plots.kernel_grid(kernels, title="first layer", columns=4)
    drawn = [image.get_array() for ax in figure.axes for image in ax.get_images()]
    assert len(drawn) == 10 and len(figure.axes) == 12
    np.testing.assert_allclose(drawn[3], kernels[:, :, 0, 3])
    assert figure._suptitle.get_text() == "first layer"
    with pytest.raises(ValueError, match=r"expected kernels of shape \(k, k, 1, filters\)"):
        plots.kernel_grid(np.zeros((3, 3, 8, 4)), title="not a first layer")


def test_training_curves_tick_whole_epochs_only():
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [2.0, 1.5, 1.2], "val_loss": [1.9, 1.6, 1.4],
                            "accuracy": [0.3, 0.5, 0.6], "val_accuracy": [0.35, 0.45, 0.5]})
    figure = plots.training_curves(history)
    figure.canvas.draw()
    for ax in figure.axes:
        ticks = [tick for tick in ax.get_xticks() if ax.get_xlim()[0] <= tick <= ax.get_xlim()[1]]
        assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()


def test_learning_rate_curve_plots_the_schedule_step_by_step():
    schedule = training.learning_rate_schedule("cosine", 2e-3, steps_per_epoch=20, epochs=3)
    figure = plots.learning_rate_curve(schedule, steps_per_epoch=20, epochs=3)
    x, y = figure.axes[0].lines[0].get_data()
    assert len(x) == 60 and x[20] == 1.0
    assert y[0] == pytest.approx(2e-4) and y.max() == pytest.approx(2e-3) and y[-1] < 1e-5
    assert figure.axes[0].get_ylabel() == "learning rate"
