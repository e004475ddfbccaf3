#!/usr/bin/env python3
"""PyTorch reference timings for actlab's benchmark: the notebook's nets trained the notebook's way.

    /usr/bin/python3 bench/pytorch_reference.py --net shallow --activation relu --steps 300
    /usr/bin/python3 bench/pytorch_reference.py --models shallow:relu,deeper:tanh --steps 500
    /usr/bin/python3 bench/pytorch_reference.py --whole-experiment [--epochs 30]
    /usr/bin/python3 bench/pytorch_reference.py --models 3x1024:relu,40x64:relu --steps-list 20,300 --no-eval --threads 2

Same work as actlab: MLP(784, 10, ...) from scripts/notebook_mlp.py, mean cross-entropy,
SGD(lr 0.01, momentum 0.9), batch 64 reshuffled every epoch (the last batch of 32 kept, as a
DataLoader with drop_last=False does), test batch 256, data pre-loaded as normalised float32 tensors
(so the figures time the network, not a DataLoader). torch.set_num_threads(--threads), which with
Debian's OpenMP OpenBLAS (libopenblas0-openmp) also bounds the BLAS threads; the summary names the
BLAS library actually loaded, since the netlib reference BLAS makes PyTorch several times slower.

Prints JSON lines: one per epoch (or one per model for a --steps run) with samples_per_s,
ms_per_step, eval_ms (the 10,000 test images; the fastest of --eval-repeats in a --steps run),
train_loss and test_acc; then a {"summary": ...} line with the total seconds and the peak resident
memory. Tensorboard logging, which the notebook also does, is left out.
"""

import argparse
import json
import os
import platform
import resource
import sys
import time

import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the repository
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from notebook_mlp import DEFAULT_DATA_DIR, MLP, evaluate, load_split  # noqa: E402

NETS = {
    "shallow": {"hidden_size": 64, "num_hidden_layers": 5},
    "deeper": {"hidden_size": 48, "num_hidden_layers": 10},
}
# The notebook's models dicts: experiment -> (net, activations), run one model after another.
EXPERIMENTS = [("shallow", ["sigmoid", "tanh"]), ("deeper", ["sigmoid", "tanh", "relu", "leaky_relu"])]


def net_shape(net):
    """The notebook's nets by name, or "LxW": L Linear layers, hidden width W (the bench's scaling nets)."""
    if net in NETS:
        return NETS[net]
    layers, _, width = net.partition("x")
    if layers.isdigit() and width.isdigit() and int(layers) >= 2 and int(width) >= 1:
        return {"hidden_size": int(width), "num_hidden_layers": int(layers)}
    raise ValueError(net)


def blas_in_use():
    """Debian's torch calls whichever libblas.so.3 the alternatives system points at; the reference
    (netlib) BLAS is several times slower than OpenBLAS, so the figures mean little without this."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(os.path.realpath(lib) for lib in libs)
    except OSError:
        return []


def emit(record):
    print(json.dumps(record), flush=True)


def timed_eval(model, x_test, y_test, batch_size):
    start = time.perf_counter()
    acc, _ = evaluate(model, x_test, y_test, batch_size)
    return acc, (time.perf_counter() - start) * 1000.0


def train_model(net, activation, args, data, generator, steps=None):
    x_train, y_train, x_test, y_test = data
    model = MLP(784, 10, activation=activation, leaky_slope=args.leaky_slope, **net_shape(net))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    base = {"framework": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "net": net, "activation": activation}

    def step(idx):
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        return loss.item()

    if steps is not None:
        # A short timing run: a few untimed warm-up steps, then exactly `steps` timed ones.
        perm = torch.randperm(n, generator=generator)
        batches = [perm[(i * args.batch_size) % n :][: args.batch_size] for i in range(args.warmup + steps)]
        for idx in batches[: args.warmup]:
            step(idx)
        start = time.perf_counter()
        cpu_start = time.process_time()
        samples, losses = 0, []
        for idx in batches[args.warmup :]:
            losses.append(step(idx))
            samples += idx.shape[0]
        train_s = time.perf_counter() - start
        train_cpu_s = time.process_time() - cpu_start
        acc, eval_ms = None, None
        if not args.no_eval:
            acc, eval_ms = timed_eval(model, x_test, y_test, args.test_batch_size)
            for _ in range(args.eval_repeats - 1):
                eval_ms = min(eval_ms, timed_eval(model, x_test, y_test, args.test_batch_size)[1])
        emit({**base, "steps": steps, "warmup_steps": args.warmup, "samples": samples, "train_s": train_s, "train_cpu_s": train_cpu_s,
              "samples_per_s": samples / train_s, "ms_per_step": 1000.0 * train_s / steps,
              "eval_ms": eval_ms, "train_loss": sum(losses) / len(losses), "test_acc": acc})
        return

    for epoch in range(args.epochs):
        start = time.perf_counter()
        perm = torch.randperm(n, generator=generator)
        total_loss, steps = 0.0, 0
        for i in range(0, n, args.batch_size):
            total_loss += step(perm[i : i + args.batch_size])
            steps += 1
        train_s = time.perf_counter() - start
        acc, eval_ms = timed_eval(model, x_test, y_test, args.test_batch_size)
        emit({**base, "epoch": epoch + 1, "steps": steps, "samples": n, "train_s": train_s,
              "samples_per_s": n / train_s, "ms_per_step": 1000.0 * train_s / steps,
              "eval_ms": eval_ms, "train_loss": total_loss / steps, "test_acc": acc})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", choices=sorted(NETS), default="shallow")
    p.add_argument("--activation", default="relu")
    p.add_argument("--models", default=None, help="net:activation,... timed one after another (overrides --net, --activation)")
    p.add_argument("--eval-repeats", type=int, default=1, help="time the evaluation this many times in a --steps run (keep the fastest)")
    p.add_argument("--epochs", type=int, default=None, help="default 1, or 30 with --whole-experiment")
    p.add_argument("--steps", type=int, default=None, help="time only this many training steps (after --warmup)")
    p.add_argument("--steps-list", default=None, help="comma-separated steps, one per model of --models (instead of --steps)")
    p.add_argument("--no-eval", action="store_true", help="skip the test-set evaluation after a --steps run")
    p.add_argument("--warmup", type=int, default=20, help="untimed steps before a --steps run")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--whole-experiment", action="store_true", help="the notebook's six models, one after another")
    p.add_argument("--data", default=DEFAULT_DATA_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--test-batch-size", type=int, default=256)
    p.add_argument("--leaky-slope", type=float, default=0.01)
    args = p.parse_args()
    if args.epochs is None:
        args.epochs = 30 if args.whole_experiment else 1
    if args.steps is not None and args.whole_experiment:
        p.error("--steps and --whole-experiment exclude each other")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    wall = time.perf_counter()
    x_train, y_train = load_split(args.data, train=True)
    x_test, y_test = load_split(args.data, train=False)
    load_s = time.perf_counter() - wall
    data = (x_train, y_train, x_test, y_test)

    if args.whole_experiment:
        models = [(net, act) for net, acts in EXPERIMENTS for act in acts]
    elif args.models:
        models = [tuple(item.split(":", 1)) for item in args.models.split(",")]
        for net, _ in models:
            try:
                net_shape(net)
            except ValueError:
                p.error(f"--models: unknown net {net} (expected one of {', '.join(sorted(NETS))}, or LxW)")
    else:
        models = [(args.net, args.activation)]
    steps = [args.steps] * len(models)
    if args.steps_list is not None:
        steps = [int(item) for item in args.steps_list.split(",")]
        if len(steps) != len(models) or min(steps) < 1:
            p.error("--steps-list needs one positive count per model of --models")
    for (net, activation), count in zip(models, steps):
        train_model(net, activation, args, data, generator, count)
    emit({"summary": {"framework": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "models": len(models), "epochs": args.epochs if args.steps is None and args.steps_list is None else None,
                      "data_load_s": load_s, "total_s": time.perf_counter() - wall,
                      # ru_maxrss is in KiB on Linux
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "blas": blas_in_use(), "python": platform.python_version(),
                      "machine": platform.machine(), "cpus": os.cpu_count()}})


if __name__ == "__main__":
    main()
