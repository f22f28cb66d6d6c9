// The widgets' JavaScript maths against NumPy, under Node's own test runner (no browser):
//
//     .venv/bin/pytest tests/test_js_maths.py        # writes the NumPy side, then runs this
//     FORCEMLP_JS_FIXTURES=numpy.json node --test tests/js/   # with fixtures already written
//
// tests/test_js_maths.py computes every expected value with forcemlp's Python (random,
// optimizers, surfaces, descent paths, activations, toy data) and names the file here; this
// module recomputes each with the ES modules the pages load, to the Chromium tests' 1e-9.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const fixtures = JSON.parse(readFileSync(process.env.FORCEMLP_JS_FIXTURES, "utf8"));
const moduleUrl = (name) => pathToFileURL(`${fixtures.js_folder}/${name}`).href;
const { SeededNormal } = await import(moduleUrl("random.js"));
const { descend, baseLearningRate } = await import(moduleUrl("descent.js"));
const { ACTIVATIONS, erfc } = await import(moduleUrl("activations.js"));
const { makeDataset } = await import(moduleUrl("toy_data.js"));

const RTOL = 1e-9;
const ATOL = 1e-300; // denormals have no relative digits
const NON_FINITE = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** Python writes NaN and the infinities as strings: JSON has no word for them. */
function number(value) {
  return typeof value === "string" ? NON_FINITE[value] : value;
}

/** Nested arrays and typed arrays as one flat list of numbers. */
function flat(values) {
  if (ArrayBuffer.isView(values)) return Array.from(values);
  return Array.isArray(values) ? values.flatMap(flat) : [number(values)];
}

/** Every entry of `actual` equals `expected`'s to RTOL (NaN equals NaN), as NumPy's allclose. */
function assertClose(actual, expected, what) {
  const got = flat(actual);
  const want = flat(expected);
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  want.forEach((value, index) => {
    const close = Number.isNaN(value) ? Number.isNaN(got[index])
      : got[index] === value || Math.abs(got[index] - value) <= ATOL + RTOL * Math.abs(value);
    assert.ok(close, `${what}[${index}]: ${got[index]} != ${value}`);
  });
}

test("SeededNormal draws Python's normals and integers", () => {
  const { seed, normals, uint_seed, uint32s } = fixtures.seeded_normal;
  assertClose(new SeededNormal(seed).normals(normals.length), normals, "normals");
  const random = new SeededNormal(uint_seed);
  assert.deepEqual(uint32s.map(() => random.nextUint32()), uint32s);
});

for (const walk of fixtures.descents) {
  test(`${walk.optimizer} walks ${walk.surface.name} as NumPy does`, () => {
    const base = baseLearningRate(walk.surface, walk.optimizer, walk.start);
    assertClose(base, walk.base_rate, "base learning rate");
    const path = descend(walk.optimizer, walk.surface, walk.rate, walk.steps,
      { momentum: walk.momentum, seed: walk.seed, start: walk.start });
    assert.equal(path.divergedAt, walk.diverged_at, "diverged at");
    assertClose(path.points, walk.points, "points");
    assertClose(path.losses, walk.losses, "losses");
  });
}

test("every activation and its derivative equal NumPy's on a grid", () => {
  const { grid, cases } = fixtures.activations;
  for (const { name, parameter, values, slopes } of cases) {
    const activation = ACTIVATIONS[name];
    const argument = parameter ?? undefined;
    assertClose(grid.map((x) => activation.function(x, argument)), values, `${name}(${parameter})`);
    assertClose(grid.map((x) => activation.derivative(x, argument)), slopes, `${name}'`);
  }
});

test("erfc equals Python's math.erfc across its range", () => {
  const { xs, values } = fixtures.erfc;
  assertClose(xs.map(erfc), values, "erfc");
});

test("the toy datasets are Python's points, labels and split", () => {
  for (const { name, options, train, test: held_out } of fixtures.toy_datasets) {
    const data = makeDataset(name, options);
    for (const [part, expected] of [["train", train], ["test", held_out]]) {
      assert.deepEqual(data[part].labels, expected.labels, `${name} ${part} labels`);
      assertClose(data[part].points, expected.points, `${name} ${part} points`);
    }
  }
});
