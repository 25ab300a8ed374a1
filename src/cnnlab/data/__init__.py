"""Input pipelines: data that reaches ``fit``/``evaluate``/``predict`` in batches.

* :class:`PyDataset` (``Sequence``): batches by index, read ahead by workers;
* :mod:`cnnlab.data.adapters`: PyDatasets, generators and iterables as passes of batches;
* :mod:`cnnlab.data.batches`: each batch unpacked and checked, errors naming the batch;
* :func:`image_dataset_from_directory`: a folder of pictures as a lazy :class:`Dataset`.
"""

from cnnlab.data.dataset import AUTOTUNE, Dataset
from cnnlab.data.image_folder import image_dataset_from_directory
from cnnlab.data.py_dataset import PyDataset, Sequence

__all__ = ["AUTOTUNE", "Dataset", "PyDataset", "Sequence", "image_dataset_from_directory"]
