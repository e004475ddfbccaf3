// Seeded randomness for initialisation and shuffling. The generator's state is a short list of
// integers, so a checkpoint can store it and a resumed run draws exactly what an uninterrupted one
// would have drawn.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from "pure-rand";

export class Random {
  private constructor(private readonly generator: RandomGenerator) {}

  static fromSeed(seed: number): Random {
    return new Random(xoroshiro128plus(seed | 0));
  }

  static fromState(state: readonly number[]): Random {
    return new Random(xoroshiro128plus.fromState(state));
  }

  /** A snapshot of the state; Random.fromState(snapshot) continues from here. */
  state(): number[] {
    return [...this.generator.getState()];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.generator.unsafeNext() >>> 5; // 27 bits
    const low = this.generator.unsafeNext() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [min, max], both ends included. */
  nextInt(min: number, max: number): number {
    return unsafeUniformIntDistribution(min, max, this.generator);
  }

  /** Fills out with values uniform in [−bound, bound), each rounded to f32. */
  fillUniform(out: Float32Array, bound: number): void {
    for (let i = 0; i < out.length; i++) out[i] = (this.nextFloat() * 2 - 1) * bound;
  }

  /**
   * Fills out with values normal with mean 0 and standard deviation std, each rounded to f32. Box–Muller
   * on pairs of nextFloat draws, in float64: r = √(−2 ln(1 − u₁)) (1 − u₁ lies in (0, 1], so the log is
   * finite), θ = 2π u₂, giving r cos θ then r sin θ. Each pair uses four generator steps; an odd length
   * drops the last sine. Math.log/cos/sin are V8's fdlibm ports, the same on every platform, so a seed
   * gives the same floats everywhere. Nothing is carried between calls: state() stays the whole state.
   */
  fillNormal(out: Float32Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
      const theta = 2 * Math.PI * this.nextFloat();
      out[i] = r * Math.cos(theta) * std;
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta) * std;
    }
  }

  /** Fisher–Yates shuffle in place. */
  shuffle(values: Uint32Array | number[]): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(0, i);
      const t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }
}
