"""The words figures and widgets show, in English (the default) or Indonesian (a notebook's ``language``);
data (records, CSV files, model cards) keeps the English names."""

from __future__ import annotations

import contextlib
import json
import numbers
import string
from pathlib import Path
from typing import Iterator

from fer_lib.labels import EMOTIONS, emotion_name

__all__ = ["EMOTION_NAMES", "set_language", "emotion_names", "display_emotion", "tr"]

LANGUAGES: tuple[str, ...] = ("en", "id")  # ISO 639-1

#: Emotion names per language, in FER2013's label order.
EMOTION_NAMES: dict[str, tuple[str, ...]] = {
    "en": EMOTIONS,
    "id": ("Marah", "Jijik", "Takut", "Senang", "Sedih", "Terkejut", "Netral"),
}

# English figure text -> its Indonesian translation, grouped by where it is shown (a data file, language_id.json,
# beside this module); tests/test_language.py checks every text drawn has one.
FIGURE_WORDS: dict[str, str] = {
    english: indonesian
    for group in json.loads(Path(__file__).with_name("language_id.json").read_text(encoding="utf-8")).values()
    for english, indonesian in group.items()
}

_current = "en"


def _checked(language: str | None) -> str:
    language = _current if language is None else language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; the course is written in {', '.join(LANGUAGES)}")
    return language


def set_language(language: str) -> None:
    """Make ``language`` the one figures and widgets speak from now on.

    Parameters
    ----------
    language : {"en", "id"}
    """
    global _current
    _current = _checked(language)


def current_language() -> str:
    """The language figures and widgets speak now (``"en"`` unless :func:`set_language` said otherwise)."""
    return _current


@contextlib.contextmanager
def using_language(language: str) -> Iterator[None]:
    """Speak ``language`` inside a ``with`` block, then the previous one again."""
    previous = _current
    set_language(language)
    try:
        yield
    finally:
        set_language(previous)


def emotion_names(language: str | None = None) -> tuple[str, ...]:
    """The seven emotion names in FER2013's label order, in ``language`` (default: the current one).

    Parameters
    ----------
    language : {"en", "id"}, optional
    """
    return EMOTION_NAMES[_checked(language)]


def display_emotion(emotion: str | int, language: str | None = None) -> str:
    """The name to show for an emotion given by its English name or its label 0..6.

    Parameters
    ----------
    emotion : str or int
    language : {"en", "id"}, optional
    """
    if isinstance(emotion, str) and emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}")
    name = emotion if isinstance(emotion, str) else emotion_name(emotion)  # emotion_name checks the range
    return emotion_names(language)[EMOTIONS.index(name)]


def tr(text: str, language: str | None = None, **values) -> str:
    """``text`` (English) in ``language``, with ``{name}`` fields filled from ``values``.

    Parameters
    ----------
    text : str
        The English text, a key of :data:`FIGURE_WORDS` (text without a translation is shown as it is).
    language : {"en", "id"}, optional
    **values
        Fields to fill with :meth:`str.format`; in Indonesian, numbers are written the Indonesian way (35,6%).
    """
    language = _checked(language)
    translated = FIGURE_WORDS.get(text, text) if language == "id" else text
    if not values:
        return translated
    return _IndonesianNumbers().format(translated, **values) if language == "id" else translated.format(**values)


class _IndonesianNumbers(string.Formatter):
    """Numbers the Indonesian way (28.709; 35,6%): the decimal and thousands marks swapped."""

    def format_field(self, value, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        is_number = isinstance(value, numbers.Number) and not isinstance(value, bool)  # NumPy's numbers too
        return text.translate(str.maketrans(".,", ",.")) if is_number else text
