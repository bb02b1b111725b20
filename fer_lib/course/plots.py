"""The notebooks' figures, returned titled: plotting only; figures of synthetic data carry a stamp."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_lib.data._container import FER2013
from fer_lib.labels import EMOTIONS, NUM_CLASSES
from fer_lib.language import display_emotion, emotion_names, tr

__all__ = ["class_counts_bar", "sample_grid", "pixel_statistics", "training_curves", "LiveCurves",
           "augmentation_grid", "confusion_heatmap", "face_gallery", "image_row", "convolution_animation",
           "save_figure", "kernel_grid", "learning_rate_curve"]


def _shown(name) -> str:
    """An emotion's name in the current language; any other label as it is."""
    return display_emotion(name) if name in EMOTIONS else str(name)


def _finish(figure, title: str | None = None, synthetic: bool = False):
    """Add the translated suptitle and the synthetic stamp, lay the figure out and return it."""
    if title is not None:
        figure.suptitle(tr(title))
    if synthetic:  # a large red warning across the figure
        figure.text(0.5, 0.5, "SYNTHETIC DATA", color="red", alpha=0.35, fontsize=36, ha="center",
                    va="center", rotation=20, weight="bold")
    figure.tight_layout()
    return figure


def class_counts_bar(parts: Mapping[str, FER2013], *, title: str = "Faces per emotion and split"):
    """Grouped bar chart of the faces per emotion in each part (train/validation/test, say).

    Parameters
    ----------
    parts : mapping of str (the legend) to FER2013
    title : str, optional
    """
    table = pd.DataFrame({tr(name): part.class_counts() for name, part in parts.items()})
    table.index = [_shown(name) for name in table.index]
    figure, axes = plt.subplots(figsize=(9, 4))
    table.plot.bar(ax=axes, rot=0, width=0.8)
    axes.set(title=tr(title), xlabel=tr("emotion"), ylabel=tr("number of faces"))
    axes.legend(title=tr("split"))
    for container in axes.containers:
        axes.bar_label(container, fontsize=7, padding=1)
    return _finish(figure, synthetic=any(part.synthetic for part in parts.values()))


def sample_grid(data: FER2013, *, per_class: int = 8, seed: int = 0, title: str = "Sample faces per emotion"):
    """A grid with one row per emotion and ``per_class`` random faces of it.

    Parameters
    ----------
    data : FER2013
    per_class, seed : int
    title : str, optional
    """
    rng = np.random.default_rng(seed)
    figure, axes = plt.subplots(NUM_CLASSES, per_class, figsize=(per_class * 1.1, NUM_CLASSES * 1.2))
    for label, name in enumerate(emotion_names()):
        rows = np.flatnonzero(data.labels == label)
        chosen = rng.choice(rows, size=min(per_class, rows.size), replace=False) if rows.size else []
        for column, ax in enumerate(axes[label]):
            ax.set(xticks=[], yticks=[])
            if column < len(chosen):
                ax.imshow(data.images[chosen[column]], cmap="gray", vmin=0, vmax=255)
            if column == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center")
    return _finish(figure, title, data.synthetic)


def pixel_statistics(data: FER2013, *, title: str = "Pixel statistics"):
    """Histogram of grey levels, and the per-pixel mean and standard deviation faces.

    Parameters
    ----------
    data : FER2013
    title : str, optional
    """
    images = data.images.astype(np.float32)
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].hist(data.images.ravel()[:: max(1, data.images.size // 2_000_000)], bins=64, color="0.3")
    axes[0].set(title=tr("grey-level histogram"), xlabel=tr("grey level (0 black, 255 white)"),
                ylabel=tr("pixels"))
    for ax, image, name in ((axes[1], images.mean(axis=0), "per-pixel mean"),
                            (axes[2], images.std(axis=0), "per-pixel standard deviation")):
        shown = ax.imshow(image, cmap="magma")
        ax.set(title=tr(name), xlabel=tr("x (pixels)"), ylabel=tr("y (pixels)"))
        figure.colorbar(shown, ax=ax, fraction=0.046)
    return _finish(figure, title, data.synthetic)


def training_curves(history: pd.DataFrame, *, title: str = "Training curves"):
    """Loss and accuracy per epoch, train (``loss``, ``accuracy``) against validation (``val_*``), gap shaded.

    Parameters
    ----------
    history : pandas.DataFrame (an ``epoch`` column is optional)
    title : str, optional
    """
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    epochs = history["epoch"] if "epoch" in history else np.arange(1, len(history) + 1)
    for ax, metric in ((axes[0], "loss"), (axes[1], "accuracy")):
        for column, label in ((metric, "train {metric}"), (f"val_{metric}", "validation {metric}")):
            if column in history:
                ax.plot(epochs, history[column], marker="o", label=tr(label, metric=tr(metric)))
        if metric in history and f"val_{metric}" in history:
            ax.fill_between(epochs, history[metric], history[f"val_{metric}"], alpha=0.15, label=tr("gap"))
        ax.set(xlabel=tr("epoch"), ylabel=tr(metric), title=tr(metric))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # no epoch 2.5
        ax.legend()
    return _finish(figure, title)


def save_figure(figure, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Save ``figure`` as PNG (creating the folder) and return the path.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or path
    dpi : int, default 110
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def LiveCurves(title: str = "Training curves (updated every epoch)", *, every: int = 1):  # noqa: N802
    """A Keras callback redrawing :func:`training_curves` in the notebook: ``callbacks=[LiveCurves()]``.

    Parameters
    ----------
    title : str, optional
    every : int, default 1
    """
    import keras
    from IPython.display import display

    class _LiveCurves(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rows, self.handle = [], None

        def on_epoch_end(self, epoch, logs=None):
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
            if (epoch + 1) % every:
                return
            figure = training_curves(pd.DataFrame(self.rows), title=title)
            if self.handle is None:
                self.handle = display(figure, display_id=True)
            else:
                self.handle.update(figure)
            plt.close(figure)

    return _LiveCurves()


def augmentation_grid(image, augment, *, copies: int = 7, seed: int = 0,
                      title: str = "One face and random augmentations of it"):
    """The original face followed by ``copies`` outputs of ``augment(batch, rng)``.

    Parameters
    ----------
    image : ndarray of shape (48, 48), uint8
    augment : callable, e.g. :func:`fer_lib.train.augment_batch`
    copies, seed : int
    title : str, optional
    """
    rng = np.random.default_rng(seed)
    batch = np.repeat(np.asarray(image)[None], copies, axis=0)
    variants = augment(batch, rng)
    figure, axes = plt.subplots(1, copies + 1, figsize=(1.4 * (copies + 1), 1.8))
    for index, (ax, face) in enumerate(zip(axes, [image, *variants])):
        ax.imshow(face, cmap="gray", vmin=0, vmax=255)
        ax.set_title(tr("original") if index == 0 else f"#{index}", fontsize=9)
        ax.set(xticks=[], yticks=[])
    return _finish(figure, title)


def confusion_heatmap(table: pd.DataFrame, *, title: str = "Confusion matrix (rows: true, normalised)"):
    """Heat map of a confusion table (:func:`fer_lib.evaluation.confusion_table`), values written in.

    Parameters
    ----------
    table : pandas.DataFrame
    title : str, optional
    """
    values = table.to_numpy()
    figure, axes = plt.subplots(figsize=(6.4, 5.4))
    shown = axes.imshow(values, cmap="Blues", vmin=0, vmax=max(1.0, float(values.max())))
    axes.set_xticks(range(len(table.columns)), [_shown(name) for name in table.columns], rotation=45,
                    ha="right")
    axes.set_yticks(range(len(table.index)), [_shown(name) for name in table.index])
    axes.set(xlabel=tr("predicted emotion"), ylabel=tr("true emotion"), title=tr(title))
    for (row, column), value in np.ndenumerate(values):
        axes.text(column, row, f"{value:.2f}" if value < 1.5 else f"{int(value)}", ha="center", va="center",
                  fontsize=8, color="white" if value > 0.5 * values.max() else "black")
    figure.colorbar(shown, ax=axes, fraction=0.046)
    return _finish(figure)


def face_gallery(images: np.ndarray, captions: list[str], *, title: str, columns: int = 6, maps=None):
    """A grid of captioned faces; ``maps`` (0..1, saliency say) are overlaid as a heat map.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8
    captions : list of str
    title : str
    columns : int, default 6
    maps : ndarray of shape (n, 48, 48), optional
    """
    rows = int(np.ceil(len(images) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.7, rows * 2.35), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for index, (ax, image, caption) in enumerate(zip(axes.ravel(), images, captions)):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        if maps is not None:
            ax.imshow(maps[index], cmap="jet", alpha=0.45, vmin=0, vmax=1)
        ax.set_title(caption, fontsize=8)
    return _finish(figure, title)


def image_row(images: list, titles: list[str], *, title: str, cmap: str = "gray", width: float = 2.4,
              centred: bool = False):
    """Images side by side, each with its title and a colour bar (for feature maps of any range).

    Parameters
    ----------
    images : list of ndarray of shape (h, w)
    titles : list of str
    title, cmap : str
    width : float, default 2.4 (inches per image)
    centred : bool, default False
        One colour scale for all, centred on zero (zero is the middle colour: white in ``RdBu_r``).
    """
    figure, axes = plt.subplots(1, len(images), figsize=(width * len(images), width + 0.6), squeeze=False)
    limit = max(float(np.max(np.abs(image))) for image in images) or 1.0
    for ax, image, name in zip(axes[0], images, titles):
        shown = ax.imshow(image, cmap=cmap, **({"vmin": -limit, "vmax": limit} if centred else {}))
        ax.set_title(tr(name), fontsize=9)
        ax.set(xticks=[], yticks=[])
        figure.colorbar(shown, ax=ax, fraction=0.046)
    return _finish(figure, title)


def convolution_animation(image, kernel, path, *, step: int = 3, fps: int = 12):
    """Write a GIF to ``path`` (folder created) of ``kernel`` sliding over ``image``; returns the path.

    Parameters
    ----------
    image : ndarray of shape (h, w)
    kernel : ndarray of shape (k, k)
    path : str or path
    step : int, default 3 (window positions per frame)
    fps : int, default 12
    """
    from matplotlib import animation

    from fer_lib.course.concepts import sliding_window_frames

    frames = list(sliding_window_frames(image, kernel, step=step))
    size = np.asarray(kernel).shape[0]
    figure, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.6))
    left.imshow(image, cmap="gray", vmin=0, vmax=255)
    left.set_title(tr("input face (48x48)"))
    window = plt.Rectangle((-0.5, -0.5), size, size, fill=False, color="red", linewidth=2)
    left.add_patch(window)
    limit = float(np.nanmax(np.abs(frames[-1][2]))) or 1.0  # the final feature map
    shown = right.imshow(frames[0][2], cmap="RdBu_r", vmin=-limit, vmax=limit)
    right.set_title(tr("feature map"))
    for ax in (left, right):
        ax.set(xlabel=tr("x (pixels)"), ylabel=tr("y (pixels)"))
    _finish(figure, title="A 3x3 kernel sliding over a face")

    def draw(index):
        row, column, partial = frames[index]
        window.set_xy((column - 0.5, row - 0.5))
        shown.set_data(partial)
        return window, shown

    movie = animation.FuncAnimation(figure, draw, frames=len(frames), interval=1000 / fps, blit=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    movie.save(path, writer=animation.PillowWriter(fps=fps))
    plt.close(figure)
    return path


def kernel_grid(kernels: np.ndarray, *, title: str, columns: int = 8):
    """A first conv layer's kernels (``layer.get_weights()[0]``) as images: blue negative, red positive.

    Parameters
    ----------
    kernels : ndarray of shape (k, k, 1, filters)
    title : str
    columns : int, default 8
    """
    kernels = np.asarray(kernels)
    if kernels.ndim != 4 or kernels.shape[2] != 1:
        raise ValueError(f"expected kernels of shape (k, k, 1, filters); got {kernels.shape}")
    count = kernels.shape[-1]
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.5), squeeze=False)
    for index, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if index < count:
            kernel = kernels[:, :, 0, index]
            limit = float(np.abs(kernel).max()) or 1.0
            ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    return _finish(figure, title)


def learning_rate_curve(schedule, *, steps_per_epoch: int, epochs: int,
                        title: str = "Learning-rate schedule"):
    """The learning rate of :func:`fer_lib.train.learning_rate_schedule` at every step, against the epoch.

    Parameters
    ----------
    schedule : float or keras.optimizers.schedules.LearningRateSchedule
    steps_per_epoch, epochs : int
    title : str, optional
    """
    steps = np.arange(steps_per_epoch * epochs)
    rates = [float(schedule(step)) if callable(schedule) else float(schedule) for step in steps]
    figure, ax = plt.subplots(figsize=(7, 3))
    ax.plot(steps / steps_per_epoch, rates)
    ax.set(xlabel=tr("epoch"), ylabel=tr("learning rate"), title=tr(title))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    return _finish(figure)
