"""Weights that travel: PyTorch state dicts, safetensors, ONNX."""

from cnnlab.interop.torch_pickle import load_torch_file, load_torch_state_dict

__all__ = ["load_torch_file", "load_torch_state_dict"]
