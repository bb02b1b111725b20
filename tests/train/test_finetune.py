"""Fine-tuning on your own faces: the split by session, and a real gain on a domain-shifted folder."""

from __future__ import annotations

import numpy as np
import pytest

from fer_lib.data import FER2013, synthetic_fer2013
from fer_lib.errors import DataError
from fer_lib.train._finetune import split_by_session


def _faces(files: list[str], labels: list[int]) -> FER2013:
    n = len(files)
    return FER2013(np.zeros((n, 48, 48), np.uint8), np.asarray(labels), np.asarray(["Unassigned"] * n),
                   files=np.asarray(files))


def test_the_split_keeps_sessions_whole_and_never_holds_out_the_first():
    files = [f"happy/s1_{i:03d}.png" for i in range(10)] + [f"happy/s2_{i:03d}.png" for i in range(4)]
    files += [f"sad/s1_{i:03d}.png" for i in range(6)]  # one session: a time block, its last frames
    train, held = split_by_session(_faces(files, [3] * 14 + [4] * 6), fraction=0.3)
    assert [files[i] for i in held] == [f"happy/s2_{i:03d}.png" for i in range(4)] + [
        f"sad/s1_{i:03d}.png" for i in (4, 5)]
    assert set(train) | set(held) == set(range(20)) and not set(train) & set(held)
    # Every later session is smaller than the share: all but the first are held out, never the first.
    files = [f"happy/a_{i}.png" for i in range(8)] + ["happy/b_0.png", "happy/c_0.png"]
    train, held = split_by_session(_faces(files, [3] * 10), fraction=0.5)
    assert [files[i] for i in held] == ["happy/b_0.png", "happy/c_0.png"]


def test_faces_without_file_names_cannot_be_split_by_session():
    with pytest.raises(DataError, match="load_image_folder"):
        split_by_session(synthetic_fer2013(20))


@pytest.mark.slow
def test_finetuning_beats_the_shipped_model_on_held_out_sessions_of_a_shifted_domain(tmp_path):
    """The library's drawn faces are a domain the shipped model never saw (about 27% right)."""
    from fer_lib.course import write_stand_in_faces
    from fer_lib.data import load_image_folder
    from fer_lib.model import DEFAULT_KERAS_PATH, load_saved_model
    from fer_lib.train import finetune

    data = load_image_folder(write_stand_in_faces(tmp_path / "my_faces"), cache=False)
    result = finetune(load_saved_model(DEFAULT_KERAS_PATH), data, seed=0)
    assert sorted(result.emotions) == sorted(["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"])
    assert result.accuracy["held_out_after"] >= result.accuracy["held_out_before"] + 0.10, result.accuracy
    assert result.model.output_shape == (None, 7)
