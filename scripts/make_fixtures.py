#!/usr/bin/env python3
"""Regenerate the PyTorch ground truth in test/fixtures/ (every file there), or check it.

    /usr/bin/python3 scripts/make_fixtures.py            # rewrite test/fixtures/*.json
    /usr/bin/python3 scripts/make_fixtures.py --check    # regenerate into a temp folder and compare
    /usr/bin/python3 scripts/make_fixtures.py --out DIR [NAME ...]   # only some files, elsewhere

Needs only torch and the standard library (Debian: `apt-get install python3-torch`, then run with
/usr/bin/python3, which sees Debian's torch). Each file carries a `description` saying exactly what
was computed; this script is that description in code.

What is made, and from which table:
- mlp_step_<activation>.json: one per row of notebook_mlp.ACTIVATIONS (the one activation table);
- activation_curves.json: every row of that table on the notebook's plotting grid;
- param_counts.json: the rows of PARAM_CONFIGS and PARAM_ERRORS below;
- init_gains.json: the --init schemes of INIT_SCHEMES below, as torch.nn.init draws them;
- optim_<optimiser>.json: one per row of OPTIMISERS below (the optimisers of src/optim.ts).
- norm_<batch|layer>.json: the mlp_step net with --norm's layer in each hidden block (make_norm).
A new activation is one row in ACTIVATIONS. A new kind of fixture (an optimiser, an initialiser, a
norm layer) is one function returning a dict plus one line in fixture_makers().

--check exits 1 when any file differs from the stored one by more than CHECK_TOLERANCE in any
number, or at all in any string, key, or shape; it prints the largest absolute difference per file.
"""

import argparse
import copy
import json
import math
import os
import struct
import sys
import tempfile

import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_mlp import ACTIVATIONS, MLP, REPO_ROOT  # noqa: E402

FIXTURES_DIR = os.path.join(REPO_ROOT, "test", "fixtures")
CHECK_TOLERANCE = 1e-12

# ---------------------------------------------------------------------------------------------
# Helpers shared by every fixture


def tensor_json(t):
    """{shape, data}: data flattened row-major (C order), as float64 values."""
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().flatten().tolist()]}


def named_tensors(model, pick):
    """{state_dict name: {shape, data}} of pick(parameter), in state_dict order."""
    return {name: tensor_json(pick(p)) for name, p in model.named_parameters()}


def shortest_float32_decimal(v):
    """The shortest decimal that parses back (through float32) to the float32 value v."""
    target = struct.pack("<f", v)
    for digits in range(1, 10):
        candidate = float(f"{v:.{digits}g}")
        if struct.pack("<f", candidate) == target:
            return candidate
    raise AssertionError(f"no float32 round trip for {v!r}")


def seven_digits(v):
    return float(f"{v:.7g}")


# ---------------------------------------------------------------------------------------------
# mlp_step_<activation>.json: one and two SGD steps of the small notebook MLP, in float64

STEP_NET = {"in_size": 6, "hidden_sizes": [5, 4], "out_size": 3, "num_hidden_layers": 3}
STEP_BATCH = 4
INIT_SEED = 14  # with relu, no entry of the first gradient is exactly 0
DATA_SEED = 1234
SGD = {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}

STEP_DESCRIPTION = (
    "One and two steps of torch.optim.SGD(lr=0.1, momentum=0.9, dampening=0, nesterov=False, weight_decay=0) "
    "on the SAME batch for the notebook's MLP(in_size=6, out_size=3, hidden_size=[5,4], num_hidden_layers=3, "
    "activation='{activation}') == Sequential(Linear(6,5), act, Linear(5,4), act, Linear(4,3)); "
    "nn.CrossEntropyLoss() with mean reduction over the batch of 4. Everything is float64 (model.double()) so "
    "that tolerances measure the TS implementation, not PyTorch float32 rounding: a float64 TS port should agree "
    "to ~1e-12 relative, a float32 one to ~1e-5. Initial parameters: torch.manual_seed(14) (chosen so that with "
    "relu no gradient entry is exactly 0) then the default nn.Linear init (weight and bias "
    "U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn in float32 and then cast to float64, so they are exactly "
    "float32-representable); identical in all mlp_step_*.json files (activations have no parameters). Inputs: "
    "torch.randn(4,6,float64) and labels torch.randint(0,3,(4,)) from torch.Generator seeded 1234. Tensors are "
    "{{shape, data}} with data flattened row-major (C order); Linear weights have PyTorch shape [out,in] and "
    "y = x @ W^T + b. grads_step1 = gradient of the mean loss at the initial params; params_after_step1 = "
    "p0 - lr*g1 (PyTorch initialises the momentum buffer to g1 on the first step); momentum_buffer_after_step2 "
    "= 0.9*g1 + g2; params_after_step2 = p1 - lr*buf2, where g2 = grads_step2 is the gradient at "
    "params_after_step1. intermediates_step1['layers.k'] is the output of model.layers[k] in the first forward "
    "pass (k=4 is the logits). dloss_dlogits = (softmax(logits) - onehot(labels))/4. Gradients were checked "
    "against central finite differences (max abs err < 1e-7)."
)

KINK_NOTE = (
    "over the hidden pre-activations (outputs of layers.0 and layers.2) in the forward passes of step 1 and "
    "step 2; if small, a TS implementation with different rounding could land on the other side of a kink "
    "(relu/leaky_relu/selu at 0, hardtanh at +-1)"
)


def step_model(activation):
    """The notebook's init in float32 from the global seed, then cast: the float64 parameters are
    exactly float32-representable and the same for every activation (activations draw nothing)."""
    torch.manual_seed(INIT_SEED)
    net = STEP_NET
    return MLP(net["in_size"], net["out_size"], net["hidden_sizes"], net["num_hidden_layers"], activation).double()


def step_batch(input_scale=1.0):
    g = torch.Generator().manual_seed(DATA_SEED)
    x = torch.randn(STEP_BATCH, STEP_NET["in_size"], dtype=torch.float64, generator=g)
    y = torch.randint(0, STEP_NET["out_size"], (STEP_BATCH,), generator=g)
    return (x * input_scale if input_scale != 1.0 else x), y


def forward_recording(model, x):
    """Runs model.layers one module at a time; returns (logits, {'layers.k': output})."""
    outputs = {}
    h = x
    for k, layer in enumerate(model.layers):
        h = layer(h)
        outputs[f"layers.{k}"] = h
    return h, outputs


def finite_difference_error(model, x, y, loss_fn, eps=1e-6):
    """Max |autograd - central difference| over every parameter entry (the description's claim)."""
    model.zero_grad()
    loss_fn(model(x), y).backward()
    worst = 0.0
    with torch.no_grad():
        for p in model.parameters():
            flat, grad = p.view(-1), p.grad.view(-1)
            for i in range(flat.numel()):
                saved = flat[i].item()
                flat[i] = saved + eps
                up = loss_fn(model(x), y).item()
                flat[i] = saved - eps
                down = loss_fn(model(x), y).item()
                flat[i] = saved
                worst = max(worst, abs((up - down) / (2 * eps) - grad[i].item()))
    model.zero_grad()
    return worst


def make_mlp_step(activation):
    model = step_model(activation)
    input_scale = ACTIVATIONS[activation].step_input_scale
    draws_noise = ACTIVATIONS[activation].draws_noise
    x, y = step_batch(input_scale)
    loss_fn = nn.CrossEntropyLoss()
    if draws_noise:
        # Every forward draws new slopes: finite differences of the initial net take step 1's, below.
        initial_model = copy.deepcopy(model)
    else:
        fd_error = finite_difference_error(model, x, y, loss_fn)
        if not fd_error < 1e-7:
            raise AssertionError(f"{activation}: gradient differs from finite differences by {fd_error}")
    optimiser = torch.optim.SGD(model.parameters(), **SGD)
    params_initial = named_tensors(model, lambda p: p)
    hidden = [f"layers.{k}" for k in range(0, 2 * (STEP_NET["num_hidden_layers"] - 1), 2)]
    preactivations = []
    noise = NoiseRecorder(model) if draws_noise else None

    # Step 1: every intermediate, the loss and dLoss/dlogits.
    logits, outputs = forward_recording(model, x)
    logits.retain_grad()
    per_sample = nn.CrossEntropyLoss(reduction="none")(logits, y)
    loss = loss_fn(logits, y)
    optimiser.zero_grad()
    loss.backward()
    preactivations += [outputs[k] for k in hidden]
    grads_step1 = named_tensors(model, lambda p: p.grad)
    zero_grads = sum(int((p.grad == 0).sum()) for p in model.parameters())
    if draws_noise:
        noise_step1 = noise.take()
        check_with_fixed_noise(activation, initial_model, noise_step1, x, y, loss_fn, grads_step1)
    result_step1 = {
        "intermediates_step1": {k: tensor_json(v) for k, v in outputs.items()},
        "logits": tensor_json(logits),
        "per_sample_loss": [float(v) for v in per_sample.tolist()],
        "loss": float(loss),
        "dloss_dlogits": tensor_json(logits.grad),
        "grads_step1": grads_step1,
    }
    optimiser.step()
    params_after_step1 = named_tensors(model, lambda p: p)

    # Step 2 at params_after_step1, on the same batch.
    logits2, outputs2 = forward_recording(model, x)
    loss2 = loss_fn(logits2, y)
    optimiser.zero_grad()
    loss2.backward()
    preactivations += [outputs2[k] for k in hidden]
    grads_step2 = named_tensors(model, lambda p: p.grad)
    noise_step2 = noise.take() if draws_noise else None
    optimiser.step()
    momentum = {name: tensor_json(optimiser.state[p]["momentum_buffer"]) for name, p in model.named_parameters()}
    with torch.no_grad():
        loss_after_step2 = float(loss_fn(model(x), y))
    noise_after_step2 = noise.take() if draws_noise else None

    z = torch.cat([p.detach().flatten() for p in preactivations]).abs()
    sequential = []
    for layer in model.layers:
        sequential.append(f"Linear({layer.in_features},{layer.out_features})" if isinstance(layer, nn.Linear) else activation)
    description = STEP_DESCRIPTION.format(activation=activation)
    if any(True for _ in model.layers[1].parameters()):
        description += (
            f" The {activation} modules have a learned parameter each (layers.1.weight and layers.3.weight, shape [1], "
            "nn.PReLU's slope, initially 0.25, drawing nothing): it is in param_names, the gradients, the momentum "
            "buffers and the parameters after each step, like the Linear ones."
        )
    if input_scale != 1.0:
        description += (
            f" Inputs here are {input_scale:g} times that randn batch, so that the pre-activations "
            "leave the activation's dead zone and the gradients are not almost all 0."
        )
    if draws_noise:
        description += NOISE_NOTE.format(activation=activation)
    return {
        "description": description,
        "activation": activation,
        "activation_params": ACTIVATIONS[activation].params,
        "config": {**STEP_NET, "sequential": sequential, "param_count": sum(p.numel() for p in model.parameters())},
        "dtype": "float64",
        "torch_version": torch.__version__,
        "init_seed": INIT_SEED,
        "data_seed": DATA_SEED,
        "sgd": SGD,
        "param_names": [name for name, _ in model.named_parameters()],
        "params_initial": params_initial,
        "inputs": tensor_json(x),
        "labels": y.tolist(),
        **result_step1,
        "params_after_step1": params_after_step1,
        "loss_step2": float(loss2),
        "grads_step2": grads_step2,
        "momentum_buffer_after_step2": momentum,
        "params_after_step2": named_tensors(model, lambda p: p),
        "loss_after_step2": loss_after_step2,
        "kink_margin": {
            "min_abs_hidden_preactivation": float(z.min()),
            "min_abs_hidden_preactivation_minus_1": float((z - 1).abs().min()),
            "note": KINK_NOTE,
        },
        "num_exact_zero_entries_in_grads_step1": zero_grads,
        **kink_margin_of_row(activation, z),
        **({"noise_step1": noise_step1, "noise_step2": noise_step2, "noise_after_step2": noise_after_step2} if draws_noise else {}),
    }


NOISE_NOTE = (
    " The {activation} modules are in training mode (the module's default), as in every step above: each forward "
    "draws a slope r ~ U(lower, upper) from torch's global generator (seeded 14 before the init) for every element "
    "x <= 0 of its input, and outputs x*r there (x elsewhere); the backward multiplies the gradient by r there "
    "(by 1 elsewhere). noise_step1, noise_step2 and noise_after_step2 hold, for the forward passes of step 1, "
    "step 2 and loss_after_step2 (also in training mode), each module's noise as PyTorch's rrelu_with_noise keeps "
    "it: y/x where x <= 0 (no x is exactly 0), 1 elsewhere; under the module's name (layers.1, layers.3), shape "
    "[4, width]. Gradients were checked against central finite differences of the initial net with step 1's "
    "noise held fixed (x*noise), whose autograd gradients equal grads_step1."
)


class NoiseRecorder:
    """Records what each random-slope module (nn.RReLU) drew in the forward passes since the last take():
    the noise tensor of PyTorch's rrelu_with_noise, y/x where x <= 0 and 1 elsewhere."""

    def __init__(self, model):
        self.seen = {}
        for k, layer in enumerate(model.layers):
            if isinstance(layer, nn.RReLU):
                layer.register_forward_hook(lambda module, inputs, output, name=f"layers.{k}": self.record(name, inputs[0], output))

    def record(self, name, x, y):
        if name in self.seen:
            raise AssertionError(f"{name} ran twice between takes")
        if bool((x == 0).any()):
            raise AssertionError(f"{name}: an input is exactly 0, where y/x cannot give the noise")
        x, y = x.detach(), y.detach()
        self.seen[name] = torch.where(x <= 0, y / x, torch.ones_like(x))

    def take(self):
        taken = {name: tensor_json(noise) for name, noise in self.seen.items()}
        self.seen = {}
        return taken


class FixedNoise(nn.Module):
    """A random-slope module with its noise given: x * noise, which is what rrelu_with_noise computes and
    differentiates in training once the noise is drawn."""

    def __init__(self, noise):
        super().__init__()
        self.noise = noise

    def forward(self, x):
        return x * self.noise


def check_with_fixed_noise(activation, model, noise, x, y, loss_fn, grads):
    """Finite differences of `model` with the recorded noise held fixed, and its autograd gradients
    against the ones recorded with the drawn noise."""
    fixed = copy.deepcopy(model)
    for name, tensor in noise.items():
        index = int(name.split(".")[1])
        fixed.layers[index] = FixedNoise(torch.tensor(tensor["data"], dtype=torch.float64).view(tensor["shape"]))
    fd_error = finite_difference_error(fixed, x, y, loss_fn)
    if not fd_error < 1e-7:
        raise AssertionError(f"{activation}: gradient differs from finite differences by {fd_error}")
    fixed.zero_grad()
    loss_fn(fixed(x), y).backward()
    for name, p in fixed.named_parameters():
        if not torch.allclose(p.grad, torch.tensor(grads[name]["data"], dtype=torch.float64).view(p.shape), rtol=1e-12, atol=1e-14):
            raise AssertionError(f"{activation}: {name}'s gradient with the noise held fixed differs from the drawn one's")


def kink_margin_of_row(activation, abs_z):
    """The distance of the hidden pre-activations from the row's own kinks (6, +-3, +-0.5): a new key,
    present only for rows that have kinks, so the first twelve files stay as they were."""
    kinks = ACTIVATIONS[activation].kinks
    if not kinks:
        return {}
    return {"min_distance_to_own_kinks": {str(k): float((abs_z - abs(k)).abs().min()) for k in kinks}}


# ---------------------------------------------------------------------------------------------
# norm_<batch|layer>.json: the mlp_step net with a norm layer in each hidden block, two SGD steps

NORM_DESCRIPTION = (
    "The notebook's MLP(in_size=6, out_size=3, hidden_size=[5,4], num_hidden_layers=3, activation='tanh') with "
    "actlab's --norm {norm}: Sequential(Linear(6,5), {module}(5), Tanh, Linear(5,4), {module}(4), Tanh, Linear(4,3)), "
    "all in float64 (model.double()). Linear parameters: torch.manual_seed(14) then nn.Linear's default init "
    "(drawn in float32, so exactly float32-representable; the same as mlp_step_tanh.json's, since the norm modules "
    "draw nothing); norm weight 1, bias 0{buffers}. Batch and labels as in mlp_step_*.json (torch.Generator "
    "seeded 1234: randn(4,6), randint(0,3,(4,))). Mode: train() for both steps ({mode_note}). "
    "intermediates_step1['layers.k'] is the output of model.layers[k] in the first forward pass. grads_step1 and "
    "grads_step2 are the gradients of the mean nn.CrossEntropyLoss at the parameters before each "
    "torch.optim.SGD(lr=0.1, momentum=0.9) step, on the same batch; params_after_step2 and buffers_after_step2 "
    "(the state_dict's buffers, num_batches_tracked as an integer) follow the second step. eval_logits: "
    "model.eval()(inputs) after step 2. Gradients were checked against central finite differences (max abs err "
    "< 1e-7)."
)


def make_norm(norm):
    torch.manual_seed(INIT_SEED)
    net = STEP_NET
    model = MLP(net["in_size"], net["out_size"], net["hidden_sizes"], net["num_hidden_layers"], "tanh", norm=norm).double()
    model.train()
    x, y = step_batch()
    loss_fn = nn.CrossEntropyLoss()
    # Finite differences on a copy, so the running statistics that its forwards move are not this model's.
    probe = MLP(net["in_size"], net["out_size"], net["hidden_sizes"], net["num_hidden_layers"], "tanh", norm=norm).double()
    probe.load_state_dict(model.state_dict())
    fd_error = finite_difference_error(probe, x, y, loss_fn)
    if not fd_error < 1e-7:
        raise AssertionError(f"norm {norm}: gradient differs from finite differences by {fd_error}")
    optimiser = torch.optim.SGD(model.parameters(), **SGD)
    params_initial = named_tensors(model, lambda p: p)
    logits, outputs = forward_recording(model, x)
    loss = loss_fn(logits, y)
    optimiser.zero_grad()
    loss.backward()
    grads_step1 = named_tensors(model, lambda p: p.grad)
    optimiser.step()
    params_after_step1 = named_tensors(model, lambda p: p)
    logits2 = model(x)
    loss2 = loss_fn(logits2, y)
    optimiser.zero_grad()
    loss2.backward()
    grads_step2 = named_tensors(model, lambda p: p.grad)
    optimiser.step()
    buffers = {}
    for name, b in model.named_buffers():
        buffers[name] = int(b) if b.dtype == torch.int64 else tensor_json(b)
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    module = {"batch": "BatchNorm1d", "layer": "LayerNorm"}[norm]
    return {
        "description": NORM_DESCRIPTION.format(
            norm=norm, module=module,
            buffers=", running_mean 0, running_var 1, num_batches_tracked 0" if norm == "batch" else "",
            mode_note="batch statistics with biased variance; running_var moves by the unbiased one, momentum 0.1, eps 1e-5"
            if norm == "batch" else "LayerNorm has no running statistics; eps 1e-5",
        ),
        "norm": norm,
        "config": {**STEP_NET, "activation": "tanh", "sequential": [type(m).__name__ for m in model.layers]},
        "dtype": "float64",
        "torch_version": torch.__version__,
        "sgd": SGD,
        "state_dict_names": list(model.state_dict().keys()),
        "params_initial": params_initial,
        "inputs": tensor_json(x),
        "labels": y.tolist(),
        "intermediates_step1": {k: tensor_json(v) for k, v in outputs.items()},
        "loss": float(loss),
        "grads_step1": grads_step1,
        "params_after_step1": params_after_step1,
        "loss_step2": float(loss2),
        "grads_step2": grads_step2,
        "params_after_step2": named_tensors(model, lambda p: p),
        "buffers_after_step2": buffers,
        "eval_logits": tensor_json(eval_logits),
    }


# ---------------------------------------------------------------------------------------------
# activation_curves.json: the notebook's plot_activation_functions, in float32

CURVES_DESCRIPTION = (
    "For each activation f: x = torch.arange(-5.0, 5.0, 1e-2, requires_grad=True) (float32, 1000 points), "
    "y = f(x), y.backward(torch.ones(x.size())), dydx = x.grad -- exactly the notebook's plot_activation_functions, "
    "all in float32. y and dydx are rounded to 7 significant digits (compare with e.g. |a-b| <= 1e-6 + 1e-5*|b|). "
    "x is stored as the shortest decimal that round-trips to the exact float32 grid value (use Math.fround(x[i]) "
    "to recover it). NOTE: PyTorch's CPU arange is NOT exactly float32(-5 + 0.01*i): on this AVX2 build it is "
    "vectorised in blocks of 8 as float32(double(float32(-5 + 0.01*8k)) + j*0.01) for i=8k+j < 992 and "
    "float32(-5 + 0.01*i) for the scalar tail i >= 992; consequently the grid contains NO exact zero: "
    "x[500] = 8.940696516468449e-10 > 0 (so relu'(x[500]) = 1), while x[400] = -1 and x[600] = +1 exactly "
    "(so hardtanh'(+-1) = 0 appears on the grid). PyTorch conventions at the kinks (see special_points, evaluated "
    "at exact -1, 0, 1 in float32 and float64): relu'(0) = 0 (grad * (x > 0)), leaky_relu'(0) = 0.01 "
    "(x > 0 ? 1 : slope), hardtanh'(+-1) = 0 (gradient passes only for -1 < x < 1), elu'(0) = alpha*exp(0) = 1, "
    "selu'(0) = scale*alpha ~= 1.7581 (x <= 0 branch). The notebook's table claims f'(0) = 1 for relu and leaky "
    "relu ('1 if x >= 0'); PyTorch autograd does not do that. Function forms: torch.sigmoid, torch.tanh, "
    "torch.relu, F.leaky_relu (slope 0.01), F.elu(alpha=1), torch.selu, F.gelu(approximate='none', exact erf), "
    "F.silu, F.softplus(beta=1, threshold=20), F.mish, F.hardtanh(-1,1), F.softsign."
)
SPECIAL_POINTS = (-1.0, 0.0, 1.0)
# A row's own kinks (ACTIVATIONS[name].kinks) are evaluated in a tensor of KINK_COPIES copies, so that
# PyTorch takes its vectorised path, the one every tensor but a short tail takes (they differ at
# hardswish's x = 3); -1, 0 and 1 stay single elements, as they always were.
KINK_COPIES = 64
KINKS_DESCRIPTION = (
    "Activations added after the first twelve (celu, relu6, hardsigmoid, hardswish, logsigmoid, tanhshrink, "
    "softshrink, hardshrink, sin, gaussian, prelu) are nn.CELU(), nn.ReLU6(), nn.Hardsigmoid(), nn.Hardswish(), "
    "nn.LogSigmoid(), nn.Tanhshrink(), nn.Softshrink(0.5), nn.Hardshrink(0.5), torch.sin, torch.exp(-x * x) and "
    "nn.PReLU() at its initial slope 0.25 (the derivative with respect to x; in float64 the module is cast). "
    "Their special_points also hold their own kinks (relu6: 6; hardsigmoid, hardswish: -3 and 3; the shrinks: "
    "-0.5 and 0.5), marked path='vectorised': evaluated in a tensor of 64 copies so that PyTorch takes its "
    "vectorised kernel. That matters at hardswish'(3): 1.0 vectorised (and on the grid, x[800] = 3 exactly), "
    "1.5 on the scalar path a single element takes."
)


def value_and_derivative(module, x):
    # A learned slope (PReLU's) in x's dtype; others have none. Eval mode: the curve is a function
    # (nn.RReLU's mean slope, not random ones); no other module behaves differently in it.
    module = copy.deepcopy(module).to(x.dtype).eval()
    x = x.detach().clone().requires_grad_(True)
    y = module(x)
    y.backward(torch.ones(x.size(), dtype=x.dtype))
    return y.detach(), x.grad


def make_activation_curves():
    # The grid as the notebook makes it; PyTorch's vectorised arange decides its exact values.
    grid = torch.arange(-5.0, 5.0, 1e-2)
    xs = grid.tolist()
    nearest_zero = min(range(len(xs)), key=lambda i: abs(xs[i]))
    curves, special = {}, {}
    for name, row in ACTIVATIONS.items():
        module = row.module(0.01)
        y, dydx = value_and_derivative(module, grid)
        curves[name] = {
            "params": row.params,
            **({"mode": "eval (module.eval(), as every curve here): the mean slope, not random ones"} if row.draws_noise else {}),
            "y": [seven_digits(v) for v in y.tolist()],
            "dydx": [seven_digits(v) for v in dydx.tolist()],
        }
        special[name] = []
        for point in SPECIAL_POINTS:
            for dtype, label in ((torch.float32, "float32"), (torch.float64, "float64")):
                y0, d0 = value_and_derivative(module, torch.tensor([point], dtype=dtype))
                special[name].append({"x": point, "dtype": label, "y": float(y0[0]), "dydx": float(d0[0])})
        for point in row.kinks:
            for dtype, label in ((torch.float32, "float32"), (torch.float64, "float64")):
                y0, d0 = value_and_derivative(module, torch.full((KINK_COPIES,), point, dtype=dtype))
                entry = {"x": point, "dtype": label, "y": float(y0[0]), "dydx": float(d0[0]), "path": "vectorised"}
                special[name].append(entry)
    return {
        "description": CURVES_DESCRIPTION,
        "torch_version": torch.__version__,
        "n": len(xs),
        "x": [shortest_float32_decimal(v) for v in xs],
        "index_nearest_zero": nearest_zero,
        "x_nearest_zero_exact": xs[nearest_zero],
        "activations": curves,
        "special_points": special,
        "description_added_activations": KINKS_DESCRIPTION,
    }


# ---------------------------------------------------------------------------------------------
# param_counts.json: the notebook constructor's parameter counts and errors

COUNTS_DESCRIPTION = (
    "count_parameters(model) = sum(p.numel() for p in model.parameters() if p.requires_grad) for the notebook's "
    "MLP class (middle loop filled in as Linear(hidden_sizes[i], hidden_sizes[i+1]) + activation). "
    "num_hidden_layers counts Linear layers: the net has num_hidden_layers Linear layers and num_hidden_layers-1 "
    "hidden widths; hidden_size is an int (repeated num_hidden_layers-1 times) or a list/tuple of exactly "
    "num_hidden_layers-1 ints (checked with type(h) in (list, tuple), not isinstance). Counts are independent of "
    "the activation (verified for all 4 notebook activations). Each Linear(in,out) contributes in*out + out. "
    "'errors' record the exception type and str(e) raised by the constructor; the first one is the notebook's "
    "own check."
)
NOTEBOOK_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")

# (label, constructor arguments). "hidden_size_type": "tuple" passes hidden_size as a tuple (JSON has none).
PARAM_CONFIGS = [
    ("shallow (notebook models_dict1)", {"in_size": 784, "out_size": 10}),
    ("deeper (notebook models_dict2)", {"in_size": 784, "out_size": 10, "hidden_size": 48, "num_hidden_layers": 10}),
    ("list hidden_size", {"in_size": 784, "out_size": 10, "hidden_size": [128, 64], "num_hidden_layers": 3}),
    (
        "tuple hidden_size, decreasing",
        {"in_size": 784, "out_size": 10, "hidden_size": [256, 128, 64, 32], "num_hidden_layers": 5, "hidden_size_type": "tuple"},
    ),
    (
        "single hidden layer (num_hidden_layers=2, middle loop empty)",
        {"in_size": 784, "out_size": 10, "hidden_size": 100, "num_hidden_layers": 2},
    ),
    ("fixture net of mlp_step_*.json", {"in_size": 6, "out_size": 3, "hidden_size": [5, 4], "num_hidden_layers": 3}),
]
PARAM_ERRORS = [
    (
        "hidden_size list of the wrong length (2 given, num_hidden_layers-1 = 4 needed)",
        {"in_size": 784, "out_size": 10, "hidden_size": [64, 32], "num_hidden_layers": 5},
    ),
    (
        "list length num_hidden_layers instead of num_hidden_layers-1",
        {"in_size": 784, "out_size": 10, "hidden_size": [64, 64, 64, 64, 64], "num_hidden_layers": 5},
    ),
    (
        "float hidden_size is neither int nor list/tuple",
        {"in_size": 784, "out_size": 10, "hidden_size": 64.0, "num_hidden_layers": 5},
    ),
    (
        "num_hidden_layers=1: hidden_sizes == [] so hidden_sizes[0] fails (not the friendly message)",
        {"in_size": 784, "out_size": 10, "hidden_size": 64, "num_hidden_layers": 1},
    ),
    ("unknown activation name: KeyError from the activation dict", {"in_size": 784, "out_size": 10, "activation": "softmax"}),
    (
        "hidden_size=True passes the notebook check (bool subclasses int) but nn.Linear raises a TypeError",
        {"in_size": 784, "out_size": 10, "hidden_size": True, "num_hidden_layers": 3},
    ),
]


def build_from_args(args, activation=None):
    kwargs = {k: v for k, v in args.items() if k != "hidden_size_type"}
    if args.get("hidden_size_type") == "tuple":
        kwargs["hidden_size"] = tuple(kwargs["hidden_size"])
    if activation is not None:
        kwargs["activation"] = activation
    return MLP(**kwargs)


def make_param_counts():
    configs = []
    for label, args in PARAM_CONFIGS:
        counts = {
            sum(p.numel() for p in build_from_args(args, a).parameters() if p.requires_grad) for a in NOTEBOOK_ACTIVATIONS
        }
        if len(counts) != 1:
            raise AssertionError(f"{label}: counts depend on the activation: {counts}")
        model = build_from_args(args)
        configs.append(
            {
                "label": label,
                "args": args,
                "param_count": counts.pop(),
                "linear_layers_in_out": [[m.in_features, m.out_features] for m in model.layers if isinstance(m, nn.Linear)],
                "state_dict_keys": list(model.state_dict().keys()),
                "sequential_len": len(model.layers),
            }
        )
    errors = []
    for label, args in PARAM_ERRORS:
        try:
            build_from_args(args)
        except Exception as e:  # noqa: BLE001 -- recording whatever the constructor raises is the point
            # The first line only: PyTorch's TypeError goes on to list every overload.
            errors.append({"label": label, "args": args, "raises": {"exception_type": type(e).__name__, "message": str(e).split("\n")[0]}})
        else:
            raise AssertionError(f"{label}: the constructor did not raise")
    return {"description": COUNTS_DESCRIPTION, "torch_version": torch.__version__, "configs": configs, "errors": errors}


# ---------------------------------------------------------------------------------------------
# init_gains.json: torch.nn.init's gains, fans and distributions for actlab's --init schemes

# --init name -> what PyTorch runs on one nn.Linear `m` for it. This is the schemes' bias convention in
# code: nn.Linear's own reset_parameters for `pytorch`; for the others, the nn.init function on the
# weight and nn.init.zeros_ on the bias, as `model.apply(init_fn)` is commonly written.
INIT_SCHEMES = {
    "pytorch": lambda m, nl, slope, gain: m.reset_parameters(),
    "xavier-uniform": lambda m, nl, slope, gain: (nn.init.xavier_uniform_(m.weight, gain=gain), nn.init.zeros_(m.bias)),
    "xavier-normal": lambda m, nl, slope, gain: (nn.init.xavier_normal_(m.weight, gain=gain), nn.init.zeros_(m.bias)),
    "kaiming-uniform": lambda m, nl, slope, gain: (
        nn.init.kaiming_uniform_(m.weight, a=slope, mode="fan_in", nonlinearity=nl), nn.init.zeros_(m.bias)),
    "kaiming-normal": lambda m, nl, slope, gain: (
        nn.init.kaiming_normal_(m.weight, a=slope, mode="fan_in", nonlinearity=nl), nn.init.zeros_(m.bias)),
    "orthogonal": lambda m, nl, slope, gain: (nn.init.orthogonal_(m.weight, gain=gain), nn.init.zeros_(m.bias)),
    "lecun-normal": lambda m, nl, slope, gain: (
        nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="linear"), nn.init.zeros_(m.bias)),
}
INIT_SHAPES = [[784, 64], [64, 64], [48, 10], [10, 48]]  # nn.Linear(in, out): first, square, last, and a tall weight
INIT_ACTIVATIONS = [("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", 0.01), ("leaky_relu", 0.2), ("selu", None), ("gelu", None)]
ORTHOGONAL_SEED = 5

INIT_DESCRIPTION = (
    "Ground truth for actlab's --init schemes, from torch.nn.init itself. gains: nn.init.calculate_gain(name, param) "
    "for every actlab activation name (plus 'linear' and leaky_relu slopes), or the exception it raises; actlab maps a "
    "raising name to calculate_gain('linear') = 1 (actlab_gain). fans: nn.init._calculate_fan_in_and_fan_out of "
    "nn.Linear(in, out).weight. schemes: for each --init name, Linear shape and activation, what INIT_SCHEMES in "
    "scripts/make_fixtures.py does to a float64 nn.Linear, recorded by intercepting Tensor.uniform_(a, b) "
    "(-> {kind: uniform, bound: b}), Tensor.normal_(0, std) (-> {kind: normal, std}) and Tensor.zero_() "
    "(-> {kind: zeros}); orthogonal_ is recorded as {kind: orthogonal, gain} (its normal_(0, 1) draw is internal). "
    "gain is calculate_gain(activation, slope), or 1 where it raises (torch nonlinearity 'linear'). orthogonal: "
    "nn.init.orthogonal_ on float64 weights of each shape after torch.manual_seed(5): max |W^T W - gain^2 I| "
    "(tall or square) or |W W^T - gain^2 I| (wide), rounded up to a power of ten; and, with A the normal matrix "
    "orthogonal_ drew (seen by drawing again from the same seed) in tall form and Q = W/gain in tall form, R = Q^T A: "
    "its largest entry below the diagonal (rounded up to a power of ten: A = QR) and whether its diagonal is "
    "positive (the sign fix q *= sign(diag(r)) makes it so)."
)


def torch_gain(name, param):
    try:
        return nn.init.calculate_gain(name, param), None
    except Exception as e:  # noqa: BLE001 -- the exception is what is recorded
        return None, {"exception_type": type(e).__name__, "message": str(e)}


class RecordDraws:
    """Replaces Tensor.uniform_/normal_/zero_ while active, recording each call's distribution in order."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        self.saved = (torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.zero_)
        uniform_, normal_, zero_ = self.saved

        def uniform(t, a=0.0, b=1.0, **kw):
            if a != -b:
                raise AssertionError(f"uniform_({a}, {b}) is not symmetric")
            self.calls.append({"kind": "uniform", "bound": float(b)})
            return uniform_(t, a, b, **kw)

        def normal(t, mean=0.0, std=1.0, **kw):
            if mean != 0:
                raise AssertionError(f"normal_ with mean {mean}")
            self.calls.append({"kind": "normal", "std": float(std)})
            return normal_(t, mean, std, **kw)

        def zero(t):
            self.calls.append({"kind": "zeros"})
            return zero_(t)

        torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.zero_ = uniform, normal, zero
        return self

    def __exit__(self, *exc):
        torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.zero_ = self.saved


def recorded_scheme(scheme, in_size, out_size, activation, slope):
    gain, raised = torch_gain(activation, slope)
    nl = "linear" if raised else activation
    gain = 1 if raised else gain
    m = nn.Linear(in_size, out_size).double()
    with RecordDraws() as record:
        INIT_SCHEMES[scheme](m, nl, 0 if slope is None else slope, gain)
    if scheme == "orthogonal":
        # orthogonal_ draws its matrix with normal_(0, 1) and scales afterwards: only the bias's draw is its own.
        if record.calls[0] != {"kind": "normal", "std": 1.0}:
            raise AssertionError(f"orthogonal_ drew {record.calls[0]}")
        record.calls[0] = {"kind": "orthogonal", "gain": float(gain)}
    weight, bias = record.calls
    return {"scheme": scheme, "in": in_size, "out": out_size, "activation": activation, "slope": slope, "gain": float(gain), "weight": weight, "bias": bias}


def power_of_ten_above(x):
    return 10.0 ** math.ceil(math.log10(max(x, 1e-300)))


def make_init_gains():
    gains = []
    for name, param in [(n, None) for n in ["linear", *ACTIVATIONS]] + [("leaky_relu", 0.2), ("leaky_relu", 0.0)]:
        gain, raised = torch_gain(name, param)
        entry = {"name": name, "param": param}
        entry.update({"gain": float(gain)} if raised is None else {"raises": raised, "actlab_gain": 1.0})
        gains.append(entry)
    fans = []
    for in_size, out_size in INIT_SHAPES:
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(nn.Linear(in_size, out_size).weight)
        fans.append({"in": in_size, "out": out_size, "fan_in": fan_in, "fan_out": fan_out})
    schemes = [
        recorded_scheme(scheme, i, o, a, s) for scheme in INIT_SCHEMES for i, o in INIT_SHAPES for a, s in INIT_ACTIVATIONS
    ]
    orthogonal = []
    for in_size, out_size in INIT_SHAPES:
        for gain in [1.0, math.sqrt(2.0)]:
            # The same seed twice: once to see the normal matrix orthogonal_ draws inside, once for orthogonal_.
            torch.manual_seed(ORTHOGONAL_SEED)
            drawn = torch.empty(out_size, in_size, dtype=torch.float64).normal_(0, 1)
            torch.manual_seed(ORTHOGONAL_SEED)
            w = nn.init.orthogonal_(torch.empty(out_size, in_size, dtype=torch.float64), gain=gain)
            tall, a = (w, drawn) if out_size >= in_size else (w.t(), drawn.t())
            error = (tall.t() @ tall - gain**2 * torch.eye(tall.shape[1], dtype=torch.float64)).abs().max().item()
            r = (tall / gain).t() @ a  # A = Q R: R = Q^T A
            orthogonal.append({
                "in": in_size, "out": out_size, "gain": gain, "gram": "W^T W" if out_size >= in_size else "W W^T",
                "max_gram_error_below": power_of_ten_above(error),
                "r_diagonal_positive": bool((torch.diag(r) > 0).all()),
                "r_below_diagonal_max_below": power_of_ten_above(torch.tril(r, -1).abs().max().item()),
            })
    return {"description": INIT_DESCRIPTION, "torch_version": torch.__version__, "gains": gains, "fans": fans, "schemes": schemes, "orthogonal": orthogonal}


# optim_<name>.json: three steps of each optimiser of src/optim.ts on the small MLP, in float64

# actlab's name -> (torch.optim class, its keywords). Every knob away from its default where the
# optimiser takes it, weight decay included, so that each path of each kernel is exercised.
OPTIMISERS = {
    "sgd": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    "nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}),
    "adam": ("Adam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}),
    "adamw": ("AdamW", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    "rmsprop": ("RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.01, "momentum": 0.9}),
}
OPTIM_STEPS = 3
OPTIM_ACTIVATION = "tanh"

OPTIM_DESCRIPTION = (
    "{steps} steps of torch.optim.{cls}({kwargs}) on the SAME batch, for the model, initial parameters, inputs and "
    "labels of mlp_step_{activation}.json (the notebook's MLP(6, 3, [5,4], 3, '{activation}'), float64, "
    "torch.manual_seed(14) init, batch of 4 from torch.Generator seeded 1234), nn.CrossEntropyLoss() mean. "
    "steps[i] holds, for step i+1: the loss and gradients at the parameters before it, then the parameters and "
    "every entry of optimizer.state after it (tensors under their state_dict names; 'step' is state['step'], "
    "the same for every parameter). knobs: the same keywords under actlab's settings names."
)


def make_optim(name):
    cls_name, kwargs = OPTIMISERS[name]
    model = step_model(OPTIM_ACTIVATION)
    x, y = step_batch()
    loss_fn = nn.CrossEntropyLoss()
    optimiser = getattr(torch.optim, cls_name)(model.parameters(), **kwargs)
    params_initial = named_tensors(model, lambda p: p)
    steps = []
    for _ in range(OPTIM_STEPS):
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        grads = named_tensors(model, lambda p: p.grad)
        optimiser.step()
        first = optimiser.state[next(model.parameters())]
        keys = [k for k in first if k != "step"]
        steps.append({
            "loss": float(loss),
            "grads": grads,
            "params": named_tensors(model, lambda p: p),
            "state": {k: {n: tensor_json(optimiser.state[p][k]) for n, p in model.named_parameters()} for k in keys},
            **({"step": int(first["step"])} if "step" in first else {}),
        })
    knobs = {"lr": kwargs["lr"], "weightDecay": kwargs["weight_decay"]}
    for torch_key, knob in (("momentum", "momentum"), ("eps", "eps"), ("betas", "betas")):
        if torch_key in kwargs:
            knobs[knob] = list(kwargs[torch_key]) if torch_key == "betas" else kwargs[torch_key]
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return {
        "description": OPTIM_DESCRIPTION.format(steps=OPTIM_STEPS, cls=cls_name, kwargs=shown, activation=OPTIM_ACTIVATION),
        "optimizer": name,
        "torch": {"class": f"torch.optim.{cls_name}", "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}},
        "knobs": knobs,
        "activation": OPTIM_ACTIVATION,
        "config": STEP_NET,
        "dtype": "float64",
        "torch_version": torch.__version__,
        "init_seed": INIT_SEED,
        "data_seed": DATA_SEED,
        "params_initial": params_initial,
        "inputs": tensor_json(x),
        "labels": y.tolist(),
        "steps": steps,
    }


# ---------------------------------------------------------------------------------------------
# The files, writing and checking


def fixture_makers():
    """File name -> function returning its JSON object. Every file in test/fixtures is listed here."""
    makers = {"activation_curves.json": make_activation_curves, "param_counts.json": make_param_counts}
    makers["init_gains.json"] = make_init_gains
    for name in ACTIVATIONS:
        makers[f"mlp_step_{name}.json"] = lambda name=name: make_mlp_step(name)
    makers.update({f"optim_{name}.json": lambda name=name: make_optim(name) for name in OPTIMISERS})
    for norm in ("batch", "layer"):
        makers[f"norm_{norm}.json"] = lambda norm=norm: make_norm(norm)
    return makers


def write_json(path, obj):
    # indent=1, one trailing newline, floats as Python's shortest repr: the stored files' exact format.
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(obj, indent=1) + "\n")
    os.replace(path + ".tmp", path)


def compare(expected, actual, where="$"):
    """Returns (max abs difference over numbers, [structural differences])."""
    if isinstance(expected, bool) or isinstance(actual, bool) or isinstance(expected, str) or expected is None:
        return 0.0, ([] if expected == actual and type(expected) is type(actual) else [f"{where}: {expected!r} != {actual!r}"])
    if isinstance(expected, (int, float)):
        if not isinstance(actual, (int, float)):
            return 0.0, [f"{where}: number {expected!r} != {actual!r}"]
        if math.isnan(expected) and math.isnan(actual):
            return 0.0, []
        return abs(expected - actual), []
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or list(expected) != list(actual):
            return 0.0, [f"{where}: keys {list(expected)} != {list(actual) if isinstance(actual, dict) else actual!r}"]
        results = [compare(expected[k], actual[k], f"{where}.{k}") for k in expected]
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return 0.0, [f"{where}: a list of {len(expected)} != {actual!r:.80}"]
        results = [compare(e, a, f"{where}[{i}]") for i, (e, a) in enumerate(zip(expected, actual))]
    else:
        return 0.0, [f"{where}: unexpected {type(expected).__name__}"]
    return max([0.0] + [r[0] for r in results]), [d for r in results for d in r[1]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these files (default: all)")
    parser.add_argument("--out", default=FIXTURES_DIR, help="folder to write into (default: test/fixtures)")
    parser.add_argument("--check", action="store_true", help="regenerate into a temp folder and compare with test/fixtures")
    args = parser.parse_args()

    torch.set_default_dtype(torch.float32)
    makers = fixture_makers()
    unknown = [n for n in args.names if n not in makers]
    if unknown:
        parser.error(f"unknown fixture(s) {unknown}; known: {sorted(makers)}")
    names = args.names or list(makers)

    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        for name in names:
            write_json(os.path.join(args.out, name), makers[name]())
            print(f"wrote {os.path.join(args.out, name)}")
        return 0

    stored = set(n for n in os.listdir(FIXTURES_DIR) if n.endswith(".json"))
    orphans = sorted(stored - set(makers))
    failed = bool(orphans)
    for orphan in orphans:
        print(f"FAIL {orphan}: in test/fixtures but no function makes it")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(tmp, name)
            write_json(path, makers[name]())
            with open(path) as f:
                fresh_text = f.read()
            stored_path = os.path.join(FIXTURES_DIR, name)
            if not os.path.exists(stored_path):
                print(f"FAIL {name}: not in test/fixtures")
                failed = True
                continue
            with open(stored_path) as f:
                stored_text = f.read()
            diff, structural = compare(json.loads(stored_text), json.loads(fresh_text))
            ok = diff <= CHECK_TOLERANCE and not structural
            failed |= not ok
            same = "byte-identical" if fresh_text == stored_text else "not byte-identical"
            print(f"{'ok  ' if ok else 'FAIL'} {name}: max abs difference {diff:.3g} ({same})")
            for d in structural[:5]:
                print(f"     {d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
