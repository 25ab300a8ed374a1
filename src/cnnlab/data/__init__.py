"""Input pipelines: data that reaches ``fit``/``evaluate``/``predict`` in batches.

* :class:`PyDataset` (``Sequence``): batches by index, read ahead by workers;
* :mod:`cnnlab.data.adapters`: PyDatasets, generators and iterables as passes of batches;
* :mod:`cnnlab.data.batches`: each batch unpacked and checked, errors naming the batch.
"""

from cnnlab.data.py_dataset import PyDataset, Sequence

__all__ = ["PyDataset", "Sequence"]
