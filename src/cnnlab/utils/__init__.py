"""Small utilities shared across cnnlab (seeding, one-hot encoding, files, images, ...)."""

from cnnlab.utils.file_download import get_file
from cnnlab.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from cnnlab.utils.numerical import normalize, to_categorical
from cnnlab.utils.random import get_generator, set_random_seed
from cnnlab.utils.sequences import pad_sequences

__all__ = ["array_to_img", "get_file", "get_generator", "img_to_array", "load_img", "normalize",
           "pad_sequences", "save_img", "set_random_seed", "to_categorical"]  # fmt: skip
