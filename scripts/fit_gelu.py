#!/usr/bin/env python3
# Fits the rational function behind bertwasm's GELU (src/kernels.c, gelu_v):
#     0.5 erf(x / sqrt 2) ~= x P(x^2) / Q(x^2)  on [0, 4 sqrt 2],  P degree 6, Q degree 4, Q(0) = 1
# (odd in x, so the fit covers the negative side too; past 4 sqrt 2 the kernel clamps x, where
# 0.5 erf is within 8e-9 of 0.5). Linearized least squares in 40-digit arithmetic (weights 1/Q of
# the previous iterate), with Lawson reweighting toward the minimax absolute error; the fit is
# done for erf(z) on [0, 4] and rescaled to x = z sqrt 2. Prints the coefficients as C floats and
# the error in exact arithmetic (about 2.7e-8 in 0.5 erf); test_kernels checks the float kernel.
# Needs python3-mpmath. Run time: about 30 s.
import mpmath as mp

mp.mp.dps = 40
NP, NQ, M = 6, 4, 600
zs = [2 + 2 * mp.cos(mp.pi * (i + 0.5) / M) for i in range(M)]  # Chebyshev nodes on [0, 4]
fs = [mp.erf(z) for z in zs]


def solve(w, qprev):
    A, b = mp.matrix(M, NP + 1 + NQ), mp.matrix(M, 1)
    for i, (z, f) in enumerate(zip(zs, fs)):
        t, s = z * z, mp.sqrt(w[i]) / qprev[i]
        for j in range(NP + 1):
            A[i, j] = s * z * t**j
        for j in range(1, NQ + 1):
            A[i, NP + j] = -s * f * t**j
        b[i] = s * f
    x = mp.qr_solve(A, b)[0]
    return [x[j] for j in range(NP + 1)], [mp.mpf(1)] + [x[NP + j] for j in range(1, NQ + 1)]


def rational(P, Q, z):
    t = z * z
    return z * mp.polyval(P[::-1], t) / mp.polyval(Q[::-1], t)


w, qprev = [mp.mpf(1)] * M, [mp.mpf(1)] * M
for _ in range(40):
    P, Q = solve(w, qprev)
    qprev = [mp.polyval(Q[::-1], z * z) for z in zs]
    errs = [abs(rational(P, Q, z) - f) for z, f in zip(zs, fs)]
    e = max(errs)
    w = [wi * (ei / e + mp.mpf('1e-3')) for wi, ei in zip(w, errs)]
    w = [wi / sum(w) for wi in w]
dense = max(abs(rational(P, Q, mp.mpf(i) / 1000) - mp.erf(mp.mpf(i) / 1000)) for i in range(4001))
# 0.5 erf(x / sqrt 2) = x (0.5 / sqrt 2) P(x^2 / 2) / Q(x^2 / 2)
Px = [mp.mpf('0.5') / mp.sqrt(2) * p / 2**j for j, p in enumerate(P)]
Qx = [q / 2**j for j, q in enumerate(Q)]
print(f'// max |error| in erf(z), z in [0, 4], exact arithmetic: {mp.nstr(dense, 3)}')
print('P:', ', '.join(f'{float(p):.9e}f' for p in Px))
print('Q:', ', '.join(f'{float(q):.9e}f' for q in Qx))
