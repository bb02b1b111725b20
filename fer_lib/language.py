"""The words figures and widgets show, in English (the default) or Indonesian (a notebook's ``language``);
data (records, CSV files, model cards) keeps the English names."""

from __future__ import annotations

import contextlib
import numbers
import string
from typing import Iterator

from fer_lib.labels import EMOTIONS, emotion_name

__all__ = ["EMOTION_NAMES", "set_language", "emotion_names", "display_emotion", "tr"]

LANGUAGES: tuple[str, ...] = ("en", "id")  # ISO 639-1

#: Emotion names per language, in FER2013's label order.
EMOTION_NAMES: dict[str, tuple[str, ...]] = {
    "en": EMOTIONS,
    "id": ("Marah", "Jijik", "Takut", "Senang", "Sedih", "Terkejut", "Netral"),
}

# English figure text -> its Indonesian translation; tests/test_language.py checks every text drawn has one.
FIGURE_WORDS: dict[str, str] = {
    # fer_lib.course.plots
    "Faces per emotion and split": "Jumlah wajah per emosi dan per bagian data", "emotion": "emosi",
    "split": "bagian data", "number of faces": "jumlah wajah",
    "Sample faces per emotion": "Contoh wajah per emosi", "Pixel statistics": "Statistik piksel",
    "Pixel statistics of the training part": "Statistik piksel data latih",
    "grey-level histogram": "histogram tingkat keabuan",
    "grey level (0 black, 255 white)": "tingkat keabuan (0 hitam, 255 putih)", "pixels": "piksel",
    "per-pixel mean": "rata-rata per piksel", "per-pixel standard deviation": "simpangan baku per piksel",
    "x (pixels)": "x (piksel)", "y (pixels)": "y (piksel)", "Training curves": "Kurva pelatihan",
    "Training curves (updated every epoch)": "Kurva pelatihan (diperbarui setiap epoch)", "loss": "loss",
    "accuracy": "akurasi", "train {metric}": "{metric} latih", "validation {metric}": "{metric} validasi",
    "gap": "selisih", "epoch": "epoch",
    "One face and random augmentations of it": "Satu wajah dan augmentasi acaknya", "original": "asli",
    "Confusion matrix (rows: true, normalised)": "Matriks konfusi (baris: label benar, dinormalisasi)",
    "predicted emotion": "emosi yang diprediksi", "true emotion": "emosi sebenarnya",
    "PublicTest": "PublicTest", "train": "latih", "validation": "validasi",
    "test (PublicTest)": "uji (PublicTest)", "input face (48x48)": "wajah masukan (48x48)",
    "feature map": "peta fitur", "A 3x3 kernel sliding over a face": "Kernel 3x3 bergeser di atas wajah",
    "Learning-rate schedule": "Jadwal laju pembelajaran", "learning rate": "laju pembelajaran",
    # notebooks' own titles and captions
    "Pixels are numbers": "Piksel adalah angka", "the face": "wajah",
    "its top-left 10x10 pixels": "10x10 piksel kiri atasnya",
    "One face, five kernels, five feature maps": "Satu wajah, lima kernel, lima peta fitur",
    "vertical edges (Sobel x)": "tepi vertikal (Sobel x)",
    "horizontal edges (Sobel y)": "tepi horizontal (Sobel y)",
    "outline (Laplacian)": "garis luar (Laplacian)", "sharpen": "penajaman", "blur (box)": "pengaburan (box)",
    "ReLU": "ReLU", "after ReLU": "setelah ReLU", "Pooling 2x2": "Pooling 2x2",
    "ReLU map {shape}": "peta ReLU {shape}", "max pooled {shape}": "max pooling {shape}",
    "average pooled {shape}": "average pooling {shape}",
    "Softmax turns seven scores into probabilities": "Softmax mengubah tujuh skor menjadi probabilitas",
    "probability": "probabilitas",
    "The shipped model's {count} learned first-layer kernels":
        "{count} kernel lapisan pertama yang dipelajari model bawaan",
    "face": "wajah", "convolution": "konvolusi", "{pooling} pool {size}": "{pooling} pooling {size}",
    "Three maps in, one map out": "Tiga peta masuk, satu peta keluar",
    "map {n} * its kernel": "peta {n} * kernelnya", "sum: the output map": "jumlah: peta keluaran",
    "What one unit sees, block by block": "Yang dilihat satu unit, blok demi blok",
    "block {block}: {size}x{size}": "blok {block}: {size}x{size}",
    "step": "langkah", "mean squared error": "galat kuadrat rata-rata",
    "Learning a kernel back from noise": "Mempelajari kembali sebuah kernel dari derau",
    "plain gradient descent": "penurunan gradien biasa", "with momentum 0.9": "dengan momentum 0,9",
    "Learning rate of the {epochs}-epoch run below":
        "Laju pembelajaran pada pelatihan {epochs} epoch di bawah",
    "{model}: {epochs} epochs": "{model}: {epochs} epoch",
    "The shipped model's training curves": "Kurva pelatihan model bawaan",
    "The shipped model: train against validation": "Model bawaan: latih dibandingkan validasi",
    "with augmentation": "dengan augmentasi", "without augmentation": "tanpa augmentasi",
    "true {true}\nsaid {said} {confidence:.0%}": "label {true}\nprediksi {said} {confidence:.0%}",
    "Most confident mistakes": "Kesalahan dengan keyakinan tertinggi",
    "{true}\nsaid {said}": "{true}\nprediksi {said}",
    "SmoothGrad: pixels that move the predicted score": "SmoothGrad: piksel yang menggerakkan skor prediksi",
    "labelled {emotion}": "berlabel {emotion}",
    "Two flat images, then six mostly pure black or white":
        "Dua gambar polos, lalu enam yang hampir seluruhnya hitam atau putih",
    "The 48×48 crops the network classifies": "Potongan 48×48 yang diklasifikasikan jaringan",
    "{name}: {count} face(s)": "{name}: {count} wajah",
    "Frame 235 of the clip: the Haar cascade against BlazeFace":
        "Frame 235 dari klip: Haar cascade dibandingkan BlazeFace",
    "Last live frame ({count} frames shown)": "Frame terakhir video langsung ({count} frame ditampilkan)",
    "Your faces (three per emotion)": "Wajah Anda (tiga per emosi)",
    "Before fine-tuning (rows: true, normalised)": "Sebelum fine-tuning (baris: label benar, dinormalisasi)",
    "After fine-tuning (rows: true, normalised)": "Setelah fine-tuning (baris: label benar, dinormalisasi)",
    # notebook 3's batch norm and dropout, notebook 7's recipe study
    "Batch normalisation, 256 faces: 3 of 16 channels": "Normalisasi batch, 256 wajah: 3 dari 16 kanal",
    "before: own mean and spread per channel": "sebelum: rata-rata dan sebaran sendiri per kanal",
    "after: mean 0, standard deviation 1": "sesudah: rata-rata 0, simpangan baku 1",
    "channel {number}": "kanal {number}", "activation": "aktivasi", "feature": "fitur",
    "Dropout at rate 0.4": "Dropout dengan laju 0,4", "16 features of one face": "16 fitur dari satu wajah",
    "while training: {count} of 16 set to zero": "saat pelatihan: {count} dari 16 dijadikan nol",
    "at inference: unchanged": "saat inferensi: tidak berubah",
    "Plain Keras: {epochs} epochs on {count} faces": "Keras biasa: {epochs} epoch pada {count} wajah",
    "The recipe study: {minutes:g} minutes per variant": "Studi resep: {minutes:g} menit per varian",
    "the baseline's validation": "validasi baseline", "accuracy (%)": "akurasi (%)",
    # fer_lib.course._liveview
    "Start": "Mulai", "Record": "Rekam", "faces": "wajah", "Saved faces: {saved}": "Wajah tersimpan: {saved}",
    " (recording {emotion}: {n} to go)": " (merekam {emotion}: {n} lagi)", "Stop": "Berhenti",
    "Largest face": "Wajah terbesar", "{count} face(s): {described}": "{count} wajah: {described}",
    "No face found": "Tidak ada wajah", "Stopped: press Start": "Berhenti: tekan Mulai",
    "Starting...": "Memulai...",
    "Running: {fps:.1f} fps, {count} face(s), frame {shown}": "Berjalan: {fps:.1f} fps, {count} wajah, frame ke-{shown}",
    ", {fps:.1f} fps on average": ", rata-rata {fps:.1f} fps",
    "Ended: the source finished after {shown} frame(s){rate}": "Selesai: sumber habis setelah {shown} frame{rate}",
    "Error after {shown} frame(s): {error}": "Galat setelah {shown} frame: {error}",
    "Stopped after {shown} frame(s){rate}": "Dihentikan setelah {shown} frame{rate}",
    # fer_lib.course._webcam and webcam.js (the page gets the entries its script uses)
    "en-US": "id-ID",
    "BrowserCamera: the browser's webcam ({frames} frames analysed); open the notebook in Jupyter to use it":
        "BrowserCamera: kamera web peramban ({frames} frame dianalisis); buka notebook di Jupyter untuk memakainya",
    "Press Start: the browser will ask for the camera.": "Tekan Mulai: peramban akan meminta izin memakai kamera.",
    "Opening the camera...": "Membuka kamera...",
    'Running: camera "{label}"': 'Berjalan: kamera "{label}"',
    "Running: {fps} frames/s, 1 face, kernel {ms} ms a frame": "Berjalan: {fps} frame/detik, 1 wajah, kernel {ms} ms per frame",
    "Running: {fps} frames/s, {count} faces, kernel {ms} ms a frame":
        "Berjalan: {fps} frame/detik, {count} wajah, kernel {ms} ms per frame",
    "Stopped: the camera is off.": "Dihentikan: kamera dimatikan.",
    "Stopped from the kernel.": "Dihentikan dari kernel.",
    "Kernel error: {message}": "Galat kernel: {message}",
    "Camera refused: allow this page to use the camera (the camera icon in the address bar), then press Start again.":
        "Kamera ditolak: izinkan halaman ini memakai kamera (ikon kamera di bilah alamat), lalu tekan Mulai lagi.",
    "No camera found in this browser: connect one, or use LiveView with a video file on the kernel's machine.":
        "Tidak ada kamera di peramban ini: sambungkan kamera, atau pakai LiveView dengan berkas video di mesin kernel.",
    "The camera is busy: close other programs or tabs that use it, then press Start again.":
        "Kamera sedang dipakai: tutup program atau tab lain yang memakainya, lalu tekan Mulai lagi.",
    "This page cannot use a camera: browsers allow it only over https or on localhost.":
        "Halaman ini tidak dapat memakai kamera: peramban hanya mengizinkannya melalui https atau di localhost.",
    "The camera could not be opened ({name}: {message}).": "Kamera tidak dapat dibuka ({name}: {message}).",
    # fer_lib.course.verdicts (claims: research/claims.py's); the notebooks' tables (.rename(columns=tr)), printouts
    "shrinks the overfitting gap by {points:.1f} points": "mempersempit selisih overfitting sebesar {points:.1f} poin",
    "Helps accuracy but not through less overfitting": "Menaikkan akurasi, tetapi bukan karena overfitting berkurang",
    "{head}: {gap} and {validation} ({change:+.1f} points).": "{head}: {gap} dan {validation} ({change:+.1f} poin).",
    "widens the overfitting gap by {points:.1f} points": "memperlebar selisih overfitting sebesar {points:.1f} poin",
    "leaves the overfitting gap about where it was": "membiarkan selisih overfitting kurang lebih tetap", "test": "uji",
    "Narrows the gap only by losing accuracy": "Mempersempit selisih hanya dengan mengorbankan akurasi", "hits": "kena",
    "accuracy on these test faces: {accuracy:.3f}": "akurasi pada wajah uji ini: {accuracy:.3f}", "f1-score": "skor F1",
    "data augmentation (not in the tutorial)": "augmentasi data (tidak ada di tutorial)", "false boxes": "kotak keliru",
    "face {index}: {emotion}, shape {shape}": "wajah {index}: {emotion}, bentuk {shape}", "{value:.1%}": "{value:.1%}",
    "train, last epoch (as it trained)": "latih, epoch terakhir (saat dilatih)", "non_trainable": "tidak dapat dilatih",
    "does not change validation accuracy": "tidak mengubah akurasi validasi", "yours ({name})": "milik Anda ({name})",
    "gap (train clean - validation)": "selisih (latih bersih - validasi)", "PublicTest accuracy": "akurasi PublicTest",
    "teachers at T = {temperature:g}": "guru pada T = {temperature:g}", "Cures overfitting": "Menyembuhkan overfitting",
    "Does not cure overfitting": "Tidak menyembuhkan overfitting", "{trained} of {planned}": "{trained} dari {planned}",
    "lowers validation accuracy": "menurunkan akurasi validasi", "held-out faces (yours)": "wajah Anda yang disisihkan",
    "last epoch, as it trained": "epoch terakhir, saat dilatih", "{count} faces: {counts}": "{count} wajah: {counts}",
    "final model, measured clean": "model akhir, diukur bersih", "validation_change": "perubahan akurasi validasi",
    "raises validation accuracy": "menaikkan akurasi validasi", "train (measured clean)": "latih (diukur bersih)",
    "with label smoothing 0.1": "dengan penghalusan label 0,1", "made by: {command}": "dibuat dengan: {command}",
    "probability given to Happy": "probabilitas untuk Senang", "a smaller stride": "stride yang lebih kecil",
    "the student's target": "target siswa", "frames with a face": "frame berwajah", "more epochs": "lebih banyak epoch",
    "more dropout": "dropout lebih besar", "training minutes": "menit pelatihan", "hours of training": "jam pelatihan",
    "flip averaging": "rata-rata cermin", "weighted avg": "rata-rata berbobot", "the shipped model": "model bawaan",
    "labelled frames": "frame berlabel", "gap_change": "perubahan selisih", "cross-entropy": "entropi silang",
    "shipped model": "model bawaan", "macro avg": "rata-rata makro", "test accuracy": "akurasi uji", "minutes": "menit",
    "{value:.3f}": "{value:.3f}", "trainable": "dapat dilatih", "architecture": "arsitektur", "parameters": "parameter",
    "ms a frame": "ms per frame", "all frames": "semua frame", "support": "jumlah wajah", "precision": "presisi",
    "macro F1": "F1 makro", "detector": "detektor", "verdict": "putusan", "variant": "varian", "before": "sebelum",
    "after": "sesudah", "teachers": "guru", "epochs": "epoch", "claim": "klaim", "share": "porsi", "score": "skor",
    "Narrows the gap, but the network does not generalise better":
        "Mempersempit selisih, tetapi jaringan tidak menggeneralisasi lebih baik",
    "{emotion:8s} recognised {share:.0%}; most often called {first} ({first_share:.0%}), then {second} "
    "({second_share:.0%})": "{emotion:8s} dikenali {share:.0%}; paling sering disebut {first} ({first_share:.0%}), "
                            "lalu {second} ({second_share:.0%})",
    "No model of yours yet: run notebook 3 (it saves build/notebooks/03_train/<model>.keras) or `make train` "
    "(models/student.keras)": "Model Anda belum ada: jalankan notebook 3 (yang menyimpan "
                              "build/notebooks/03_train/<model>.keras) atau `make train` (models/student.keras)",
    "{blank} of {total:,} training images are one flat grey level (labelled {emotions}); {saturated} have more "
    "than half of their pixels pure black or white": "{blank} dari {total:,} gambar latih hanya berisi satu tingkat "
    "keabuan (berlabel {emotions}); {saturated} memiliki lebih dari separuh pikselnya hitam atau putih murni",
    "No recordings in my_faces/ yet (two sessions needed): using the stand-in of drawn faces.":
        "Belum ada rekaman di my_faces/ (diperlukan dua sesi): kita memakai wajah gambar pengganti.",
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
