// Seeded random numbers that forcemlp.toy_data (Python) reproduces number for number.
//
//   import { seededRandom } from "./random.js";
//   const random = seededRandom(7); random.uniform(); random.gaussian();
//
// mulberry32: a 32-bit state, a few integer mixes per draw; small, fast and the same in
// every language that has 32-bit integer arithmetic.

export function seededRandom(seed) {
  let state = seed >>> 0;
  function uniform() {  // in [0, 1)
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1) >>> 0;
    mixed = (mixed ^ ((mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)) >>> 0)) >>> 0;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  }
  function gaussian() {  // standard normal, Box-Muller from two uniforms
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    return radius * Math.cos(2 * Math.PI * uniform());
  }
  return { uniform, gaussian };
}
