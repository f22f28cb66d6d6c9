// The activations of forcemlp.activations and their derivatives, with the same formulas in the
// same order (stable for any input: no overflow at ±1e4). Each takes (x, parameter); the
// parameter (leaky ReLU's slope, ELU's alpha) is ignored by those without one.

const SQRT_2PI = Math.sqrt(2 * Math.PI);

function sigmoid(x) {
  const small = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + small) : small / (1 + small);
}

// erfc(x) by W. J. Cody's rational approximations (SPECFUN's CALERF): relative error below
// 1e-15 wherever erfc(x) is a normal float; JavaScript has no Math.erfc.
const ERF_A = [3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
  3.20937758913846947e03, 1.85777706184603153e-1];
const ERF_B = [2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
  2.84423683343917062e03];
const ERFC_C = [5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
  2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
  2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8];
const ERFC_D = [1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
  1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
  3.43936767414372164e03, 1.23033935480374942e03];
const ERFC_P = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
  1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
const ERFC_Q = [2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
  6.05183413124413191e-2, 2.33520497626869185e-3];
const ONE_OVER_SQRT_PI = 5.6418958354775628695e-1;

export function erfc(x) {
  const y = Math.abs(x);
  let result;
  if (y <= 0.46875) {
    const ysq = y > 1.11e-16 ? y * y : 0;
    let numerator = ERF_A[4] * ysq;
    let denominator = ysq;
    for (let i = 0; i < 3; i += 1) {
      numerator = (numerator + ERF_A[i]) * ysq;
      denominator = (denominator + ERF_B[i]) * ysq;
    }
    return 1 - x * (numerator + ERF_A[3]) / (denominator + ERF_B[3]);
  }
  if (y <= 4) {
    let numerator = ERFC_C[8] * y;
    let denominator = y;
    for (let i = 0; i < 7; i += 1) {
      numerator = (numerator + ERFC_C[i]) * y;
      denominator = (denominator + ERFC_D[i]) * y;
    }
    result = (numerator + ERFC_C[7]) / (denominator + ERFC_D[7]);
  } else {
    const inverseSquare = 1 / (y * y);
    let numerator = ERFC_P[5] * inverseSquare;
    let denominator = inverseSquare;
    for (let i = 0; i < 4; i += 1) {
      numerator = (numerator + ERFC_P[i]) * inverseSquare;
      denominator = (denominator + ERFC_Q[i]) * inverseSquare;
    }
    result = inverseSquare * (numerator + ERFC_P[4]) / (denominator + ERFC_Q[4]);
    result = (ONE_OVER_SQRT_PI - result) / y;
  }
  // e^{-y²} as e^{-a²} e^{-(y-a)(y+a)} with a = y rounded down to 1/16: no digits lost.
  const rounded = Math.trunc(y * 16) / 16;
  result = Math.exp(-rounded * rounded) * Math.exp(-(y - rounded) * (y + rounded)) * result;
  return x < 0 ? 2 - result : result;
}

function normalCdf(x) {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function normalPdf(x) {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

export const ACTIVATIONS = {
  relu: { function: (x) => Math.max(x, 0), derivative: (x) => (x > 0 ? 1 : 0) },
  leaky_relu: {
    function: (x, slope = 0.01) => (x > 0 ? x : slope * x),
    derivative: (x, slope = 0.01) => (x > 0 ? 1 : slope),
  },
  elu: {
    function: (x, alpha = 1) => (x > 0 ? x : alpha * Math.expm1(Math.min(x, 0))),
    derivative: (x, alpha = 1) => (x > 0 ? 1 : alpha * Math.exp(Math.min(x, 0))),
  },
  sigmoid: { function: sigmoid, derivative: (x) => sigmoid(x) * sigmoid(-x) },
  tanh: {
    function: Math.tanh,
    derivative: (x) => {
      const small = Math.exp(-2 * Math.abs(x));
      return 4 * small / (1 + small) ** 2;
    },
  },
  softplus: {
    function: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    derivative: sigmoid,
  },
  gelu: {
    function: (x) => x * normalCdf(x),
    derivative: (x) => normalCdf(x) + x * normalPdf(x),
  },
  silu: {
    function: (x) => x * sigmoid(x),
    derivative: (x) => sigmoid(x) + x * sigmoid(x) * sigmoid(-x),
  },
  linear: { function: (x) => x, derivative: () => 1 },
};

/** The activation called `name`; an Error naming the ones that exist otherwise. */
export function activation(name) {
  const found = ACTIVATIONS[name];
  if (found === undefined) {
    throw new Error(`unknown activation ${name}: choose one of ${Object.keys(ACTIVATIONS).join(", ")}`);
  }
  return found;
}
