// Seeded random numbers that Python draws bit for bit the same (forcemlp.random.SeededNormal):
// mulberry32, a 32-bit generator small enough to write identically in both languages, and
// Box–Muller for standard normal numbers. Used for SGD's gradient noise and initial weights.

const TWO_TO_32 = 4294967296;

export class SeededNormal {
  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer of mulberry32. */
  nextUint32() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in (0, 1): never 0, so its logarithm is finite. */
  uniform() {
    return (this.nextUint32() + 0.5) / TWO_TO_32;
  }

  /** One standard normal number: Box–Muller on two uniforms (the sine half is not used). */
  normal() {
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    return radius * Math.cos(2 * Math.PI * this.uniform());
  }

  /** `count` standard normal numbers, in the order Python's standard_normal(count) draws them. */
  normals(count) {
    const values = new Float64Array(count);
    for (let index = 0; index < count; index += 1) values[index] = this.normal();
    return values;
  }
}
