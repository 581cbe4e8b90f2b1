"""Linear mixed models with random intercepts, fitted by REML; and OLS with cluster-robust errors.

The model ``y = X b + Z_s u_s + Z_r u_r + e``: respondents (``unit``) with a random intercept,
optionally nested in sites with their own (lme4's ``(1 | site) + (1 | site:respondent)``).
:func:`reml_fit` minimises lme4's profiled REML criterion with an analytic gradient, at a cost
linear in respondents (Sherman-Morrison updates, no n × n matrix); :func:`ols_cluster` is the
fallback when the respondent variance collapses or the optimiser does not converge. Used by
:mod:`pipeline.analysis.prepost` (the mixed model per dimension) and
:mod:`pipeline.analysis.district` (the village-level model). Pure numpy/scipy; checked against
``lme4::lmer(REML=TRUE)`` and statsmodels in ``tests/analysis/test_prepost.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize

__all__ = ["NestedModel", "reml_fit", "ols_cluster", "site_units"]


class NestedModel:
    """Sufficient statistics of ``y = X b + Z_s u_s + Z_r u_r + e`` for the REML criterion.

    ``unit`` codes the respondents (lme4's ``site:respondent``); ``site`` codes the sites, or is
    None for the one-level model ``(1 | respondent)``. With ``theta_r = var_respondent / var_residual``
    and ``theta_s = var_site / var_residual`` the marginal covariance is ``var_residual * V`` with
    ``V`` block-diagonal over sites, and inside a site ``V = A + theta_s 1 1'`` where ``A`` is
    block-diagonal over respondents, ``A_i = I + theta_r 1 1'``. Both inverses are rank-one
    updates (Sherman-Morrison), so every quantity of the criterion and its gradient is a sum over
    respondents and sites of per-respondent sums (``n_i``, ``S_i = X_i' 1``, ``X_i' 1 1' X_i``,
    ...): after one pass over the rows an evaluation costs a few matrix-vector products over
    respondents and no n × n matrix is ever formed.
    """

    def __init__(self, y: np.ndarray, x: np.ndarray, unit: np.ndarray, site: np.ndarray | None):
        # centre y on its OLS fit first: GLS is linear, so b(y - X b0) = b(y) - b0 and the
        # residuals are unchanged, while the sums below lose no digits to a large mean
        self.b0 = np.linalg.lstsq(x, y, rcond=None)[0]
        y = y - x @ self.b0
        self.n_obs, self.p = x.shape
        m = int(unit.max()) + 1
        n = np.bincount(unit, minlength=m).astype(float)
        sx = np.column_stack([np.bincount(unit, weights=x[:, j], minlength=m) for j in range(self.p)])
        sy = np.bincount(unit, weights=y, minlength=m)
        self.starts = None
        if site is not None:
            site_of_unit = np.zeros(m, dtype=np.int64)
            site_of_unit[unit] = site  # units are nested in sites
            order = np.argsort(site_of_unit, kind="stable")  # units of a site contiguous
            n, sx, sy, site_of_unit = n[order], sx[order], sy[order], site_of_unit[order]
            self.starts = np.flatnonzero(np.r_[True, site_of_unit[1:] != site_of_unit[:-1]])
            self.site_of_unit = np.repeat(np.arange(self.starts.size),
                                          np.diff(np.r_[self.starts, m]))
        self.n, self.sx, self.sy = n, sx, sy
        self.sxx = (sx[:, :, None] * sx[:, None, :]).reshape(m, -1)  # S_i S_i', flattened
        self.sxy = sx * sy[:, None]
        self.syy = sy * sy
        self.xtx, self.xty, self.yty = x.T @ x, x.T @ y, float(y @ y)

    @property
    def k(self) -> int:
        """Number of variance ratios (1 one-level, 2 nested)."""
        return 1 if self.starts is None else 2

    def _site_sum(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.starts, axis=0)

    def evaluate(self, theta: np.ndarray, grad: bool = False) -> dict:
        """REML deviance ``-2 log L_R`` profiled over the residual variance, at ``theta``.

        ``-2 l_R = log|V| + log|X' V^-1 X| + (N - p) (1 + log(2 pi r2 / (N - p)))`` with
        ``r2 = (y - X b)' V^-1 (y - X b)`` at the GLS ``b``: the criterion lme4 minimises
        (Bates et al. 2015, eq. 41). With ``grad``, also its gradient in ``theta`` from
        ``d/dtheta_k = tr(V^-1 Z_k Z_k') - tr(C^-1 Q_k' Q_k) - (N - p)/r2 |Z_k' V^-1 e|^2``,
        ``C = X' V^-1 X``, ``Q_k = Z_k' V^-1 X``.
        """
        p = self.p
        tr_, ts = float(theta[0]), (float(theta[1]) if self.k == 2 else 0.0)
        n, sx, sy = self.n, self.sx, self.sy
        w = 1.0 / (1.0 + tr_ * n)
        tw = tr_ * w
        c_mat = self.xtx - (tw @ self.sxx).reshape(p, p)
        c_vec = self.xty - tw @ self.sxy
        yvy = self.yty - float(tw @ self.syy)
        logdet = float(np.sum(np.log1p(tr_ * n)))
        if self.k == 2:
            a = self._site_sum(sx * w[:, None])       # 1_s' A^-1 X
            bs = self._site_sum(w * sy)                # 1_s' A^-1 y
            cs = self._site_sum(w * n)                 # 1_s' A^-1 1_s
            g = ts / (1.0 + ts * cs)
            c_mat = c_mat - (a.T * g) @ a
            c_vec = c_vec - a.T @ (g * bs)
            yvy -= float(np.sum(g * bs * bs))
            logdet += float(np.sum(np.log1p(ts * cs)))
        try:
            chol = np.linalg.cholesky(c_mat)
        except np.linalg.LinAlgError:
            return {"dev": np.inf}
        beta = _cho_solve(chol, c_vec)
        r2 = yvy - float(beta @ c_vec)
        dof = self.n_obs - p
        if not r2 > 0:
            return {"dev": np.inf}
        dev = (logdet + 2 * float(np.sum(np.log(np.diag(chol))))
               + dof * (1 + math.log(2 * math.pi * r2 / dof)))
        out = {"dev": dev, "beta": beta + self.b0, "chol": chol, "r2": r2, "dof": dof}
        if not grad:
            return out
        cinv = _cho_solve(chol, np.eye(p))
        e = sy - sx @ beta                             # per-respondent sums of the residuals
        wn = w * n                                     # 1_i' A^-1 1_i
        w2 = w * w
        # respondent term: 1_i' V^-1 X = w_i (S_i - n_i g_s a_s), summed as outer products
        qq = (w2 @ self.sxx).reshape(p, p)
        ue = w * e                                     # 1_i' A^-1 e
        trace = float(np.sum(wn))
        if self.k == 2:
            gi = g[self.site_of_unit]
            be = self._site_sum(ue)                    # 1_s' A^-1 e
            bsx = self._site_sum(sx * (w2 * n)[:, None])
            d = self._site_sum(w2 * n * n)
            cross = (bsx.T * g) @ a
            qq = qq - cross - cross.T + (a.T * (g * g * d)) @ a
            ue = ue - wn * gi * be[self.site_of_unit]
            trace -= float(np.sum(self._site_sum(wn * wn) * g))
        gr = [trace - float(np.sum(cinv * qq)) - dof / r2 * float(ue @ ue)]
        if self.k == 2:
            h = 1.0 / (1.0 + ts * cs)                  # site term: 1_s' V^-1 . = h_s 1_s' A^-1 .
            qs = a * h[:, None]
            gr.append(float(np.sum(cs * h)) - float(np.sum(cinv * (qs.T @ qs)))
                      - dof / r2 * float(np.sum((be * h) ** 2)))
        out["grad"] = np.array(gr)
        return out


def _cho_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(chol.T, np.linalg.solve(chol, b))


def reml_fit(y: np.ndarray, x: np.ndarray, unit: np.ndarray, site: np.ndarray | None) -> dict | None:
    """REML fit of random intercepts for respondents (nested in sites when ``site`` is given).

    Minimises the profiled REML deviance (:meth:`NestedModel.evaluate`) over the variance ratios
    ``theta >= 0`` by L-BFGS-B with the analytic gradient (a ratio on its bound 0 is exactly
    0, where lme4 stops at ~1e-10 and reports a singular fit); then ``var_residual = r2 / (N -
    p)``, the fixed effects are the GLS estimates and their covariance ``var_residual * (X'
    V^-1 X)^-1`` is lme4's ``vcov``. Returns None when the optimiser does not converge.
    """
    model = NestedModel(y, x, unit, site)

    def f(th):
        r = model.evaluate(th, grad=True)
        if not np.isfinite(r["dev"]):
            return 1e300, np.zeros(model.k)
        return r["dev"], r["grad"]

    best = None
    for start in (1.0, 0.1, 10.0):  # lme4 starts at 1; the others only when that one fails
        res = optimize.minimize(f, np.full(model.k, start), jac=True, method="L-BFGS-B",
                                bounds=[(0.0, None)] * model.k,
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
        # converged: a stationary point inside, or a positive gradient on a bound
        g = np.asarray(res.jac)
        kkt = np.all(np.where(res.x > 0, np.abs(g), -np.minimum(g, 0)) <= 1e-5 * max(1, abs(res.fun)))
        if np.isfinite(res.fun) and res.fun < 1e300 and (res.success or kkt):
            break
    else:
        return None
    theta = np.maximum(best.x, 0.0)
    r = model.evaluate(theta)
    scale = r["r2"] / r["dof"]
    cov = scale * _cho_solve(r["chol"], np.eye(model.p))
    return {"beta": r["beta"], "cov": cov, "scale": scale, "var_resp": float(theta[0] * scale),
            "var_site": float(theta[1] * scale) if model.k == 2 else np.nan,
            "dev": float(r["dev"])}


def ols_cluster(y: np.ndarray, x: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS with cluster-robust covariance, as statsmodels ``OLS(y, x).fit(cov_type="cluster",
    cov_kwds={"groups": cluster})``: sandwich ``(X'X)^-1 (sum_g X_g'u_g u_g'X_g) (X'X)^-1`` times
    its default small-sample factor ``G/(G-1) (N-1)/(N-K)``; inference normal (its ``use_t``
    default for robust covariances). Returns (estimates, covariance). Written out so that the
    fallback does not import statsmodels' regression stack (~1 s)."""
    n, k = x.shape
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    u = y - x @ beta
    g = int(cluster.max()) + 1
    score = np.column_stack([np.bincount(cluster, weights=x[:, j] * u, minlength=g)
                             for j in range(k)])
    bread = np.linalg.inv(x.T @ x)
    cov = bread @ (score.T @ score) @ bread * (g / (g - 1) * (n - 1) / (n - k))
    return beta, cov


def site_units(site, respondent) -> np.ndarray:
    """lme4's ``site:respondent`` as integer codes, numbered in order of first appearance.

    The codes ``pd.factorize(site + "\\x00" + respondent)`` gives, from the two columns' own codes,
    without building a string per row.

    >>> site_units(pd.Series(["b", "a", "b", "b"]), pd.Series(["1", "1", "2", "1"])).tolist()
    [0, 1, 2, 0]
    """
    return pd.DataFrame({"s": site, "r": respondent}).groupby(["s", "r"], sort=False, dropna=False).ngroup().to_numpy()
