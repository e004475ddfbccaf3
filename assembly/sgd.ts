// torch.optim.SGD with momentum, dampening 0, no Nesterov, no weight decay:
// v = μ·v + g; p −= lr·v. On the first step PyTorch sets v = g, which μ·0 + g reproduces exactly.

export function sgdMomentumStep(params: usize, grads: usize, velocity: usize, n: i32, lr: f32, momentum: f32): void {
  const mu = f32x4.splat(momentum);
  const rate = f32x4.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = f32x4.add(f32x4.mul(mu, v128.load(velocity + o)), v128.load(grads + o));
    v128.store(velocity + o, v);
    v128.store(params + o, f32x4.sub(v128.load(params + o), f32x4.mul(rate, v)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = momentum * load<f32>(velocity + o) + load<f32>(grads + o);
    store<f32>(velocity + o, v);
    store<f32>(params + o, load<f32>(params + o) - lr * v);
  }
}
