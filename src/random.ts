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
