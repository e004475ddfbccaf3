#!/usr/bin/env python3
"""Load an actlab checkpoint into the notebook's PyTorch MLP and score it on the MNIST test set.

    /usr/bin/python3 scripts/pytorch_load_check.py runs/05_deeper_mlp/relu.safetensors [more.safetensors ...]
        [--data DIR] [--predictions OUT.json]

Reads the safetensors file with the standard library only (no `safetensors` package), builds
MLP(**config from the metadata), calls load_state_dict(strict=True) and prints one JSON line per
checkpoint: {"checkpoint", "test_acc", "correct", "n", "config"}. Exit code 2 for a bad file or
config, 1 for anything else.
"""

import argparse
import json
import os
import re
import struct
import sys

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_mlp import DEFAULT_DATA_DIR, MLP, evaluate, load_split  # noqa: E402

TORCH_DTYPES = {
    "F32": torch.float32,
    "F64": torch.float64,
    "I32": torch.int32,
    "I64": torch.int64,
    "U8": torch.uint8,
}
ITEM_SIZE = {"F32": 4, "F64": 8, "I32": 4, "I64": 8, "U8": 1}
MAX_HEADER = 100_000_000


class BadInput(Exception):
    pass


def read_safetensors(path):
    """Returns (OrderedDict name -> tensor, metadata dict of strings). Checks what it relies on."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise BadInput(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER or 8 + n > len(raw):
        raise BadInput(f"{path}: header length {n} does not fit the {len(raw)}-byte file")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path}: header is not JSON ({e})")
    if not isinstance(header, dict):
        raise BadInput(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    buffer = memoryview(raw)[8 + n :]
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype = info.get("dtype")
        if dtype not in TORCH_DTYPES:
            raise BadInput(f"{path}: tensor {name!r} has unsupported dtype {dtype!r}")
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if not 0 <= begin <= end <= len(buffer) or end - begin != count * ITEM_SIZE[dtype]:
            raise BadInput(f"{path}: tensor {name!r} offsets {begin, end} do not match shape {info['shape']}")
        chunk = bytearray(buffer[begin:end])
        t = torch.frombuffer(chunk, dtype=TORCH_DTYPES[dtype]) if count else torch.empty(0, dtype=TORCH_DTYPES[dtype])
        if sys.byteorder == "big":
            t = torch.from_numpy(t.numpy().byteswap())
        tensors[name] = t.reshape(info["shape"])
    return tensors, metadata


def _snake(key):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _decode(value):
    """Metadata values are strings; most hold JSON (numbers, lists), some plain words ("relu")."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def config_from(metadata, tensors, path):
    """MLP keyword arguments from the metadata, tolerant of JSON-encoded values, camelCase keys and a
    single "config" JSON object; sizes the metadata omits are read off the weight shapes."""
    flat = {}
    for key, value in metadata.items():
        value = _decode(value)
        if key in ("config", "model_config") and isinstance(value, dict):
            flat.update({_snake(k): v for k, v in value.items()})
        else:
            flat[_snake(key)] = value
    # The Linear weights: a norm module's weight (--norm) is a vector.
    linear_weights = (k for k in tensors if k.endswith(".weight") and tensors[k].dim() == 2)
    weights = [tensors[k] for k in sorted(linear_weights, key=lambda k: int(k.split(".")[1]))]
    if not weights:
        raise BadInput(f"{path}: no layers.<i>.weight tensors")
    activation = flat.get("activation")
    if not isinstance(activation, str):
        raise BadInput(f"{path}: metadata has no \"activation\" (keys: {sorted(metadata)})")
    hidden = flat.get("hidden_sizes", flat.get("hidden_size"))
    if hidden is None:
        hidden = [int(w.shape[0]) for w in weights[:-1]]
    num_layers = int(flat.get("num_hidden_layers", flat.get("layers", len(weights))))
    config = {
        "in_size": int(flat.get("in_size", weights[0].shape[1])),
        "out_size": int(flat.get("out_size", weights[-1].shape[0])),
        "hidden_size": hidden if isinstance(hidden, int) else [int(h) for h in hidden],
        "num_hidden_layers": num_layers,
        "activation": activation,
        "leaky_slope": float(flat.get("leaky_slope", 0.01)),
        # actlab's --norm; checkpoints from before it have none.
        "norm": flat.get("norm", "none"),
    }
    return config


def check(path, x, y):
    tensors, metadata = read_safetensors(path)
    config = config_from(metadata, tensors, path)
    try:
        model = MLP(**config)
    except Exception as e:  # the notebook raises bare Exception, KeyError or IndexError (an unknown norm: KeyError)
        raise BadInput(f"{path}: the notebook's MLP refuses config {config}: {e!r}")
    # Floats as float32; num_batches_tracked stays int64, as BatchNorm1d keeps it.
    state = {k: v if v.dtype == torch.int64 else v.to(torch.float32) for k, v in tensors.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise BadInput(f"{path}: load_state_dict(strict=True) failed: {e}")
    acc, pred = evaluate(model, x, y, batch_size=256)
    return {
        "checkpoint": path,
        "test_acc": acc,
        "correct": int((pred == y).sum().item()),
        "n": int(y.shape[0]),
        "config": config,
    }, pred


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="safetensors files written by actlab")
    parser.add_argument("--data", default=DEFAULT_DATA_DIR, help="folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    parser.add_argument("--predictions", help="write the predicted labels (one list per checkpoint) to this JSON file")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        x, y = load_split(args.data, train=False)
    except (OSError, ValueError) as e:
        print(f"error: --data {args.data}: {e}", file=sys.stderr)
        return 2
    all_preds = {}
    for path in args.checkpoints:
        try:
            result, pred = check(path, x, y)
        except (OSError, BadInput, KeyError, TypeError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(json.dumps(result), flush=True)
        all_preds[path] = pred.tolist()
    if args.predictions:
        with open(args.predictions, "w") as f:
            json.dump(all_preds, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
