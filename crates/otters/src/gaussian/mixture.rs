//! Optimal transport between Gaussian mixtures restricted to Gaussian-mixture plans
//! (ALGORITHMS.md G4; Delon & Desolneux 2020, *A Wasserstein-type distance in the space of
//! Gaussian mixture models*): a discrete OT problem between the components with the squared
//! Bures–Wasserstein distances as ground cost, solved exactly.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayView3};

use super::{Gaussian, GaussianMap, bures_wasserstein_cost_matrix, bures_wasserstein_map};
use crate::error::{Error, Index, Result};
use crate::geometry::DenseCost;
use crate::kernels::lse::log_sum_exp;
use crate::linear::{ExactOutput, LinearProblem, NetworkSimplex};
use crate::validate;

/// A Gaussian mixture `Σ_k w_k N(m_k, Σ_k)` (weights need not sum to one).
#[derive(Debug, Clone)]
pub struct GaussianMixture {
    components: Vec<Gaussian>,
    weights: Array1<f64>,
}

impl GaussianMixture {
    /// A mixture from its means (`k × d`), covariances (`k × d × d`) and weights (`k`); errors
    /// name `means`, `covs` and `weights`.
    ///
    /// # Errors
    /// See [`GaussianMixture::new_named`].
    pub fn new(
        means: ArrayView2<'_, f64>,
        covs: ArrayView3<'_, f64>,
        weights: ArrayView1<'_, f64>,
    ) -> Result<Self> {
        Self::new_named("means", means, "covs", covs, "weights", weights)
    }

    /// A mixture, with the argument names used in error messages.
    ///
    /// # Errors
    /// [`Error::Empty`] for no component; [`Error::Shape`] for inconsistent sizes; the
    /// [`Gaussian`] errors for each component; weight errors (negative, NaN, zero mass).
    pub fn new_named(
        means_arg: &'static str,
        means: ArrayView2<'_, f64>,
        covs_arg: &'static str,
        covs: ArrayView3<'_, f64>,
        weights_arg: &'static str,
        weights: ArrayView1<'_, f64>,
    ) -> Result<Self> {
        let (k, d) = means.dim();
        if k == 0 {
            return Err(Error::Empty {
                arg: means_arg,
                what: "component",
            });
        }
        if covs.dim() != (k, d, d) {
            let (a, b, c) = covs.dim();
            return Err(Error::Shape {
                arg: covs_arg,
                expected: format!(
                    "{k} x {d} x {d} (one d x d covariance per row of `{means_arg}`)"
                ),
                got: format!("{a} x {b} x {c}"),
            });
        }
        crate::geometry::check_len(weights_arg, weights.len(), k, "one weight per component")?;
        validate::weights(weights_arg, weights)?;
        let components = (0..k)
            .map(|i| {
                Gaussian::new_named(
                    means_arg,
                    means.row(i),
                    covs_arg,
                    covs.index_axis(ndarray::Axis(0), i),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(GaussianMixture {
            components,
            weights: weights.to_owned(),
        })
    }

    /// The components.
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// The component weights.
    pub fn weights(&self) -> ArrayView1<'_, f64> {
        self.weights.view()
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.components[0].dim()
    }

    /// `log Σ_k w_k g_k(x)` at each row of `x` (log-sum-exp of the component log-densities).
    ///
    /// # Errors
    /// As [`Gaussian::log_pdf`] (every component with a positive weight needs a positive
    /// definite covariance).
    pub fn log_pdf(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let logs = self.component_log_pdfs(x)?;
        Ok(logs
            .iter()
            .map(|row| log_sum_exp(row.iter().copied()))
            .collect())
    }

    /// `log w_k + log g_k(x_i)` as an `n × k` matrix (`−∞` for zero weights).
    fn component_log_pdfs(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Vec<f64>>> {
        let n = x.nrows();
        let mut out = vec![vec![f64::NEG_INFINITY; self.components.len()]; n];
        for (k, (g, &w)) in self.components.iter().zip(&self.weights).enumerate() {
            g.check_points("x", x)?;
            if w > 0.0 {
                let lp = g.log_pdf(x)?;
                for (row, v) in out.iter_mut().zip(lp) {
                    row[k] = w.ln() + v;
                }
            }
        }
        Ok(out)
    }
}

/// The GMM-OT solution: the component cost matrix and the exact OT between the weights.
#[derive(Debug, Clone)]
pub struct GmmOtOutput {
    cost_matrix: Array2<f64>,
    exact: ExactOutput,
}

impl GmmOtOutput {
    /// `MW2² = min_P Σ_ij P_ij W2²(g_i, h_j)` (POT's `gmm_ot_loss`).
    pub fn loss(&self) -> f64 {
        self.exact.cost()
    }

    /// `W2²(g_i, h_j)` between the components (`k_s × k_t`).
    pub fn cost_matrix(&self) -> &Array2<f64> {
        &self.cost_matrix
    }

    /// The optimal plan between the components, dense (`k_s × k_t`).
    pub fn plan(&self) -> Array2<f64> {
        let (ks, kt) = self.cost_matrix.dim();
        let mut out = Array2::zeros((ks, kt));
        for (i, j, v) in self.exact.plan().iter() {
            out[[i, j]] = v;
        }
        out
    }

    /// The exact solver's full output (potentials, status).
    pub fn exact(&self) -> &ExactOutput {
        &self.exact
    }
}

/// GMM-OT between two mixtures: the exact OT (network simplex) between the component weights
/// for the cost `W2²(g_i, h_j)`.
///
/// # Errors
/// [`Error::Shape`] when the dimensions differ; [`Error::MassMismatch`] when the weights do
/// not carry the same mass (as exact OT).
pub fn gmm_ot(source: &GaussianMixture, target: &GaussianMixture) -> Result<GmmOtOutput> {
    let cost_matrix = bures_wasserstein_cost_matrix(&source.components, &target.components)?;
    let geom = DenseCost::new(cost_matrix.view())?;
    let problem = LinearProblem::new(&geom, source.weights.view(), target.weights.view())?;
    let exact = NetworkSimplex::default().solve(&problem)?;
    Ok(GmmOtOutput { cost_matrix, exact })
}

/// The barycentric projection of a GMM-OT plan, `T_bary` of Delon & Desolneux (2020):
///
/// `T(x) = Σ_ij P_ij g_i(x) T_ij(x) / Σ_k w_k g_k(x)`,
///
/// with `g_i` the source components' densities, `w_k` the source weights and `T_ij` the
/// Monge map from source component `i` to target component `j` (POT's `gmm_ot_apply_map`
/// with `method='bary'`). Computed in the log domain, so points far from every component
/// still map to a finite convex combination.
///
/// # Errors
/// [`Error::Shape`] for a plan that is not `k_s × k_t` or points of the wrong dimension;
/// [`Error::NonFinite`] / [`Error::NegativeWeight`] for bad plan entries;
/// [`Error::InvalidParameter`] when a source component with positive weight has a singular
/// covariance (no density).
pub fn gmm_barycentric_map(
    source: &GaussianMixture,
    target: &GaussianMixture,
    plan: ArrayView2<'_, f64>,
    x: ArrayView2<'_, f64>,
) -> Result<Array2<f64>> {
    let (ks, kt) = (source.components.len(), target.components.len());
    if plan.dim() != (ks, kt) {
        return Err(Error::Shape {
            arg: "plan",
            expected: format!("{ks} x {kt} (source x target components)"),
            got: format!("{} x {}", plan.nrows(), plan.ncols()),
        });
    }
    for ((i, j), &v) in plan.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                arg: "plan",
                index: Index::Matrix(i, j),
                value: v,
            });
        }
        if v < 0.0 {
            return Err(Error::invalid(
                "plan",
                "a plan must be nonnegative",
                format!("{v} at [{i}, {j}]"),
            ));
        }
    }
    source.components[0].check_same_dim(&target.components[0])?;
    let logs = source.component_log_pdfs(x)?;
    // r_i(x) = g_i(x) / Σ_k w_k g_k(x), from the log-densities (weight w_i removed again).
    let ratios: Vec<Vec<f64>> = logs
        .iter()
        .map(|row| {
            let denom = log_sum_exp(row.iter().copied());
            row.iter()
                .zip(&source.weights)
                .map(|(&l, &w)| {
                    if w > 0.0 && denom.is_finite() {
                        (l - w.ln() - denom).exp()
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let mut out = Array2::zeros(x.dim());
    for ((i, j), &p) in plan.indexed_iter() {
        if p == 0.0 || source.weights[i] == 0.0 {
            continue;
        }
        let map: GaussianMap = bures_wasserstein_map(&source.components[i], &target.components[j])?;
        let mapped = map.apply(x)?;
        for (r, (mut out_row, mapped_row)) in
            out.rows_mut().into_iter().zip(mapped.rows()).enumerate()
        {
            out_row.scaled_add(p * ratios[r][i], &mapped_row);
        }
    }
    Ok(out)
}
