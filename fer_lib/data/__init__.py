"""FER2013 as arrays: loading (CSV, archives, image folders, cache, discovery), splits and synthetic faces."""

from fer_lib.data._container import FER2013, to_model_input
from fer_lib.data._folders import load_image_folder, my_faces_folder
from fer_lib.data._loading import discover_fer2013, file_sha256, load_default_data, load_fer2013
from fer_lib.data._parsing import SkipReason
from fer_lib.data._splits import Split, load_split, make_split, save_split, stratified_sample
from fer_lib.data._synthetic import synthetic_fer2013

__all__ = ["FER2013", "SkipReason", "Split", "discover_fer2013", "file_sha256", "load_default_data", "load_fer2013",
           "load_image_folder", "my_faces_folder", "load_split", "make_split", "save_split",
           "stratified_sample", "synthetic_fer2013", "to_model_input"]
