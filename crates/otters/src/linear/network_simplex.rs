//! Primal network simplex for the transportation problem `min ⟨C, P⟩` over `Π(a, b)`
//! (ALGORITHMS.md L1; Ahuja, Magnanti & Orlin 1993, ch. 11; block-search pricing as in
//! LEMON, Kovács 2015).
//!
//! Nodes are the `n` sources, the `m` sinks and a root; every node starts attached to the
//! root by an artificial arc of prohibitive cost ("big-M"), so the initial spanning tree is
//! feasible. A run may instead start from the final tree of a run on the same weights (it
//! stays feasible when only the cost changes) or from a north-west corner staircase. Pivots keep the tree *strongly feasible* (Cunningham's leaving-arc rule), which
//! rules out cycling on these very degenerate problems. The tree is stored with parent
//! pointers and child lists; a pivot re-hangs one subtree and shifts its potentials. Only
//! O(n + m) state is kept besides the cost: non-tree arcs carry no flow and are recognized
//! by a zero reduced cost, so no per-arc array is needed.

use crate::error::{Error, Result};
use crate::kernels::argmin::{max_abs, min_plus};
use crate::observe::{Observer, Progress};

const NONE: usize = usize::MAX;

/// How a network simplex run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    Optimal,
    MaxIterations,
}

/// Flows on the plan's support, node potentials and the pivot count.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    /// `(i, j, mass)` for every real arc of the final tree with positive flow.
    pub flows: Vec<(usize, usize, f64)>,
    /// Source potentials `u` and sink potentials `v`, with `u_i + v_j ≤ C_ij` and equality
    /// on the support (up to rounding).
    pub u: Vec<f64>,
    pub v: Vec<f64>,
    pub iterations: usize,
    pub termination: Termination,
}

/// The spanning tree of a finished run with its flows: a basis that stays primal feasible
/// (and strongly feasible) for any cost on the same weights, so a run on a nearby cost can
/// start from it instead of from the artificial tree.
#[derive(Debug, Clone)]
pub(crate) struct Basis {
    parent: Vec<usize>,
    pred_arc: Vec<usize>,
    pred_up: Vec<bool>,
    flow: Vec<f64>,
    first_child: Vec<usize>,
    next_sibling: Vec<usize>,
    prev_sibling: Vec<usize>,
}

impl Basis {
    /// The north-west corner basis along the given orders of the sources and of the sinks
    /// (`rows`, `cols`: permutations of `0..n`, `0..m`): the staircase of the monotone
    /// coupling, each cell hanging its new source or sink below the other end of its arc,
    /// from the root by the artificial arc root → `c₁`.
    /// Where a source and a sink run out together the staircase steps right, through a
    /// zero-flow arc source → sink that points away from the root, so the tree is strongly
    /// feasible. `None` when the masses differ by more than `1e-9` of the mass.
    pub(crate) fn north_west(
        a: &[f64],
        b: &[f64],
        rows: &[usize],
        cols: &[usize],
    ) -> Option<Basis> {
        let (n, m) = (a.len(), b.len());
        debug_assert!(rows.len() == n && cols.len() == m && n > 0 && m > 0);
        let nodes = n + m + 1;
        let root = n + m;
        let mut basis = Basis {
            parent: vec![NONE; nodes],
            pred_arc: vec![NONE; nodes],
            pred_up: vec![false; nodes],
            flow: vec![0.0; nodes],
            first_child: vec![NONE; nodes],
            next_sibling: vec![NONE; nodes],
            prev_sibling: vec![NONE; nodes],
        };
        let mut hang = |child: usize, parent: usize, arc: usize, up: bool, flow: f64| {
            basis.parent[child] = parent;
            basis.pred_arc[child] = arc;
            basis.pred_up[child] = up;
            basis.flow[child] = flow;
            let head = basis.first_child[parent];
            basis.next_sibling[child] = head;
            if head != NONE {
                basis.prev_sibling[head] = child;
            }
            basis.first_child[parent] = child;
        };
        let (mut p, mut q) = (0, 0);
        let (mut supply, mut demand) = (a[rows[0]], b[cols[0]]);
        hang(n + cols[0], root, n * m + n + cols[0], false, 0.0);
        let f = supply.min(demand);
        hang(rows[0], n + cols[0], rows[0] * m + cols[0], true, f);
        loop {
            let f = supply.min(demand);
            supply -= f;
            demand -= f;
            let (i, j) = (rows[p], cols[q]);
            if demand <= 0.0 && q + 1 < m {
                // Right: source i feeds the next sink.
                q += 1;
                demand = b[cols[q]];
                let f = supply.min(demand);
                hang(n + cols[q], i, i * m + cols[q], false, f);
            } else if supply <= 0.0 && p + 1 < n {
                if demand <= 0.0 {
                    return None;
                }
                // Down: the next source feeds sink j.
                p += 1;
                supply = a[rows[p]];
                let f = supply.min(demand);
                hang(rows[p], n + j, rows[p] * m + j, true, f);
            } else {
                break;
            }
        }
        // What is left unmatched is the masses' difference: rounding, or at most what a
        // finished solve may strand (see `solve`).
        let mass: f64 = a.iter().sum();
        let left = supply.max(demand);
        (p + 1 == n && q + 1 == m && left <= 1e-9 * mass).then_some(basis)
    }
}

/// The spanning tree and its flows and potentials.
struct Tree<'a> {
    cost: &'a [f64],
    n: usize,
    m: usize,
    /// Cost of an artificial arc: more than any path of real arcs.
    artificial_cost: f64,
    /// Reduced costs above `−tolerance` count as non-negative (rounding of potentials).
    tolerance: f64,
    parent: Vec<usize>,
    pred_arc: Vec<usize>,
    /// Whether the tree arc to the parent points from the node to its parent.
    pred_up: Vec<bool>,
    /// Flow on the arc to the parent.
    flow: Vec<f64>,
    depth: Vec<usize>,
    potential: Vec<f64>,
    first_child: Vec<usize>,
    next_sibling: Vec<usize>,
    prev_sibling: Vec<usize>,
    /// Where the next pricing block starts.
    next_arc: usize,
    block: usize,
    stack: Vec<usize>,
}

impl<'a> Tree<'a> {
    /// The starting tree: every node hangs from the root by its artificial arc.
    fn new(cost: &'a [f64], a: &[f64], b: &[f64]) -> Self {
        let (n, m) = (a.len(), b.len());
        let nodes = n + m + 1;
        let root = n + m;
        let mut tree = Tree::with_arrays(
            cost,
            n,
            m,
            Basis {
                parent: vec![root; nodes],
                pred_arc: (0..nodes).map(|u| n * m + u).collect(),
                pred_up: vec![true; nodes],
                flow: vec![0.0; nodes],
                first_child: vec![NONE; nodes],
                next_sibling: vec![NONE; nodes],
                prev_sibling: vec![NONE; nodes],
            },
        );
        tree.parent[root] = NONE;
        tree.pred_arc[root] = NONE;
        // Sources send their supply to the root, the root feeds the sinks.
        tree.flow[..n].copy_from_slice(a);
        tree.flow[n..n + m].copy_from_slice(b);
        tree.pred_up[n..n + m].fill(false);
        for u in (0..n + m).rev() {
            tree.attach(u, root);
        }
        tree.refresh_potentials();
        tree
    }

    /// The tree of a previous run (on the same weights), with potentials for `cost`.
    fn from_basis(cost: &'a [f64], n: usize, m: usize, basis: Basis) -> Self {
        let mut tree = Tree::with_arrays(cost, n, m, basis);
        tree.refresh_potentials();
        tree
    }

    fn with_arrays(cost: &'a [f64], n: usize, m: usize, basis: Basis) -> Self {
        let nodes = n + m + 1;
        let max_cost = max_abs(cost, true).0;
        let artificial_cost = (nodes as f64) * (max_cost + 1.0);
        let Basis {
            parent,
            pred_arc,
            pred_up,
            flow,
            first_child,
            next_sibling,
            prev_sibling,
        } = basis;
        Tree {
            cost,
            n,
            m,
            artificial_cost,
            tolerance: 16.0 * f64::EPSILON * artificial_cost,
            parent,
            pred_arc,
            pred_up,
            flow,
            depth: vec![0; nodes],
            potential: vec![0.0; nodes],
            first_child,
            next_sibling,
            prev_sibling,
            next_arc: 0,
            block: (((n * m + n + m) as f64).sqrt() as usize).max(10),
            stack: Vec::new(),
        }
    }

    /// Depths, and potentials that make every tree arc tight (the root's is 0), from the
    /// root down.
    fn refresh_potentials(&mut self) {
        let root = self.root();
        self.potential[root] = 0.0;
        self.depth[root] = 0;
        self.stack.clear();
        self.stack.push(root);
        while let Some(x) = self.stack.pop() {
            let mut w = self.first_child[x];
            while w != NONE {
                let (_, _, c) = self.arc(self.pred_arc[w]);
                // Tight: c − π(tail) + π(head) = 0.
                self.potential[w] = if self.pred_up[w] {
                    self.potential[x] + c
                } else {
                    self.potential[x] - c
                };
                self.depth[w] = self.depth[x] + 1;
                self.stack.push(w);
                w = self.next_sibling[w];
            }
        }
    }

    /// The tree without its cost-dependent state.
    fn into_basis(self) -> Basis {
        Basis {
            parent: self.parent,
            pred_arc: self.pred_arc,
            pred_up: self.pred_up,
            flow: self.flow,
            first_child: self.first_child,
            next_sibling: self.next_sibling,
            prev_sibling: self.prev_sibling,
        }
    }

    /// Whether every real tree arc has a finite cost (a warm tree must).
    fn finite_tree(&self) -> bool {
        let real = self.n * self.m;
        self.pred_arc
            .iter()
            .all(|&k| k == NONE || k >= real || self.cost[k].is_finite())
    }

    fn root(&self) -> usize {
        self.n + self.m
    }

    fn arc_count(&self) -> usize {
        self.n * self.m + self.n + self.m
    }

    /// `(tail, head, cost)` of an arc: real arcs `i → n + j` first, in row-major order, then
    /// one artificial arc per node (source → root, root → sink).
    fn arc(&self, k: usize) -> (usize, usize, f64) {
        let real = self.n * self.m;
        if k < real {
            (k / self.m, self.n + k % self.m, self.cost[k])
        } else {
            let u = k - real;
            if u < self.n {
                (u, self.root(), self.artificial_cost)
            } else {
                (self.root(), u, self.artificial_cost)
            }
        }
    }

    fn reduced_cost(&self, k: usize) -> f64 {
        let (s, t, c) = self.arc(k);
        c - self.potential[s] + self.potential[t]
    }

    /// Block search: scans blocks of arcs from where the last search stopped and returns the
    /// most negative reduced cost of the first block that has one.
    fn entering_arc(&mut self) -> Option<(usize, f64)> {
        let total = self.arc_count();
        let real = self.n * self.m;
        let (mut best, mut best_arc) = (-self.tolerance, NONE);
        let (mut scanned, mut in_block) = (0, 0);
        let mut k = self.next_arc;
        while scanned < total {
            // The longest run of arcs that stays in one row, one block and one kind.
            let run = if k < real {
                let (i, j) = (k / self.m, k % self.m);
                let len = (self.m - j).min(self.block - in_block).min(total - scanned);
                let (value, at) = min_plus(
                    &self.cost[k..k + len],
                    &self.potential[self.n + j..self.n + j + len],
                );
                let r = value - self.potential[i];
                if r < best {
                    best = r;
                    best_arc = k + at;
                }
                len
            } else {
                let r = self.reduced_cost(k);
                if r < best {
                    best = r;
                    best_arc = k;
                }
                1
            };
            k = (k + run) % total;
            scanned += run;
            in_block += run;
            if in_block == self.block {
                if best_arc != NONE {
                    break;
                }
                in_block = 0;
            }
        }
        self.next_arc = k;
        (best_arc != NONE).then_some((best_arc, best))
    }

    fn join(&self, mut u: usize, mut v: usize) -> usize {
        while self.depth[u] > self.depth[v] {
            u = self.parent[u];
        }
        while self.depth[v] > self.depth[u] {
            v = self.parent[v];
        }
        while u != v {
            u = self.parent[u];
            v = self.parent[v];
        }
        u
    }

    fn attach(&mut self, w: usize, p: usize) {
        let head = self.first_child[p];
        self.next_sibling[w] = head;
        self.prev_sibling[w] = NONE;
        if head != NONE {
            self.prev_sibling[head] = w;
        }
        self.first_child[p] = w;
    }

    fn detach(&mut self, w: usize) {
        let (prev, next) = (self.prev_sibling[w], self.next_sibling[w]);
        if prev != NONE {
            self.next_sibling[prev] = next;
        } else {
            self.first_child[self.parent[w]] = next;
        }
        if next != NONE {
            self.prev_sibling[next] = prev;
        }
    }

    /// One pivot on the entering arc `k` (tail `s`, head `t`, reduced cost `r < 0`).
    fn pivot(&mut self, k: usize, r: f64) -> Result<()> {
        let (s, t, _) = self.arc(k);
        let join = self.join(s, t);
        // The cycle runs join → … → s → t → … → join. Among the arcs it traverses against
        // their direction (the only ones that bound the flow), take the last one met from
        // the join (Cunningham's rule): on the s side the one closest to s (strict <), on
        // the t side the one closest to the join (≤).
        let (mut delta, mut u_out, mut out_on_s_side) = (f64::INFINITY, NONE, false);
        let mut w = s;
        while w != join {
            if self.pred_up[w] && self.flow[w] < delta {
                (delta, u_out, out_on_s_side) = (self.flow[w], w, true);
            }
            w = self.parent[w];
        }
        let mut w = t;
        while w != join {
            if !self.pred_up[w] && self.flow[w] <= delta {
                (delta, u_out, out_on_s_side) = (self.flow[w], w, false);
            }
            w = self.parent[w];
        }
        if u_out == NONE {
            return Err(Error::Numerical {
                solver: "network simplex",
                iteration: 0,
                epsilon: 0.0,
                detail: "unbounded cycle (a negative-cost cycle with no blocking arc)".into(),
            });
        }
        let delta = delta.max(0.0);
        if delta > 0.0 {
            for (start, sign) in [(s, -1.0), (t, 1.0)] {
                let mut w = start;
                while w != join {
                    let dir = if self.pred_up[w] { sign } else { -sign };
                    self.flow[w] += dir * delta;
                    w = self.parent[w];
                }
            }
        }

        // Re-hang the subtree cut off by the leaving arc: reverse the stem u_in → … → u_out
        // and attach u_in below v_in through the entering arc.
        let (u_in, v_in) = if out_on_s_side { (s, t) } else { (t, s) };
        let (mut w, mut new_parent, mut new_pred, mut new_up, mut new_flow) =
            (u_in, v_in, k, u_in == s, delta);
        loop {
            let (old_parent, old_pred, old_up, old_flow) = (
                self.parent[w],
                self.pred_arc[w],
                self.pred_up[w],
                self.flow[w],
            );
            self.detach(w);
            self.parent[w] = new_parent;
            self.pred_arc[w] = new_pred;
            self.pred_up[w] = new_up;
            self.flow[w] = new_flow;
            self.attach(w, new_parent);
            if w == u_out {
                break;
            }
            (new_parent, new_pred, new_up, new_flow) = (w, old_pred, !old_up, old_flow);
            w = old_parent;
        }

        // The entering arc must become tight: shift the potentials of the moved subtree.
        let sigma = if u_in == s { r } else { -r };
        self.stack.clear();
        self.stack.push(u_in);
        while let Some(x) = self.stack.pop() {
            self.potential[x] += sigma;
            self.depth[x] = self.depth[self.parent[x]] + 1;
            let mut c = self.first_child[x];
            while c != NONE {
                self.stack.push(c);
                c = self.next_sibling[c];
            }
        }
        Ok(())
    }
}

/// Solves the transportation problem for positive weights `a` (length n) and `b`
/// (length m) of equal mass and a row-major `n × m` cost (`+∞` = forbidden pair), from the
/// artificial tree or from `warm`, the basis of a run on the same weights (ignored when one
/// of its arcs is forbidden by `cost`). Also returns the final basis.
///
/// # Errors
/// [`Error::Infeasible`] when forbidden pairs leave no feasible plan;
/// [`Error::Interrupted`] when the observer cancels.
pub(crate) fn solve(
    cost: &[f64],
    a: &[f64],
    b: &[f64],
    max_iterations: usize,
    warm: Option<Basis>,
    observer: &Observer<'_>,
) -> Result<(Solution, Basis)> {
    let (n, m) = (a.len(), b.len());
    debug_assert_eq!(cost.len(), n * m);
    let warm = warm
        .filter(|basis| basis.parent.len() == n + m + 1)
        .map(|basis| Tree::from_basis(cost, n, m, basis))
        .filter(Tree::finite_tree);
    let mut tree = warm.unwrap_or_else(|| Tree::new(cost, a, b));
    let mut termination = Termination::MaxIterations;
    let mut iterations = 0;
    while iterations < max_iterations {
        let Some((k, r)) = tree.entering_arc() else {
            termination = Termination::Optimal;
            break;
        };
        tree.pivot(k, r).map_err(|e| match e {
            Error::Numerical {
                solver,
                epsilon,
                detail,
                ..
            } => Error::Numerical {
                solver,
                iteration: iterations + 1,
                epsilon,
                detail,
            },
            other => other,
        })?;
        iterations += 1;
        if iterations % 1024 == 0 {
            observer.step(&Progress {
                iteration: iterations,
                max_iterations,
                error: -r,
                epsilon: 0.0,
            })?;
        }
    }

    let mass: f64 = a.iter().sum();
    let real = n * m;
    let mut flows = Vec::with_capacity(n + m);
    let mut stranded = 0.0;
    for u in 0..n + m {
        let (k, f) = (tree.pred_arc[u], tree.flow[u]);
        if k < real {
            if f > 0.0 {
                flows.push((k / m, k % m, f));
            }
        } else {
            stranded += f.max(0.0);
        }
    }
    if termination == Termination::Optimal && stranded > 1e-9 * mass {
        return Err(Error::Infeasible {
            detail: format!(
                "forbidden pairs (+inf costs) leave no feasible plan: a mass of {stranded:e} (of {mass:e}) cannot be transported"
            ),
        });
    }
    let u = tree.potential[..n].to_vec();
    let v = tree.potential[n..n + m].iter().map(|p| -p).collect();
    let solution = Solution {
        flows,
        u,
        v,
        iterations,
        termination,
    };
    Ok((solution, tree.into_basis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force_assignment(c: &[f64], n: usize) -> f64 {
        fn rec(c: &[f64], n: usize, row: usize, used: &mut Vec<bool>) -> f64 {
            if row == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    best = best.min(c[row * n + j] + rec(c, n, row + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(c, n, 0, &mut vec![false; n])
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn small_assignments_match_brute_force_with_certificates() {
        let mut seed = 9;
        for n in 1..=7 {
            for trial in 0..20 {
                // Integer costs make ties and degenerate pivots common.
                let c: Vec<f64> = (0..n * n)
                    .map(|_| (lcg(&mut seed) * if trial % 2 == 0 { 4.0 } else { 100.0 }).floor())
                    .collect();
                let w = vec![1.0 / n as f64; n];
                let (sol, _) = solve(&c, &w, &w, usize::MAX, None, &Observer::new()).unwrap();
                assert_eq!(sol.termination, Termination::Optimal);
                let cost: f64 = sol.flows.iter().map(|&(i, j, f)| f * c[i * n + j]).sum();
                let want = brute_force_assignment(&c, n) / n as f64;
                assert!(
                    (cost - want).abs() < 1e-12,
                    "n={n} trial={trial}: {cost} vs {want}"
                );
                assert!(sol.flows.len() < 2 * n);
                // Dual feasibility, complementary slackness and zero gap.
                for i in 0..n {
                    for j in 0..n {
                        assert!(sol.u[i] + sol.v[j] <= c[i * n + j] + 1e-9);
                    }
                }
                for &(i, j, _) in &sol.flows {
                    assert!((sol.u[i] + sol.v[j] - c[i * n + j]).abs() < 1e-9);
                }
                let dual: f64 = sol.u.iter().chain(&sol.v).sum::<f64>() / n as f64;
                assert!((dual - cost).abs() < 1e-9);
            }
        }
    }

    fn transport_cost(sol: &Solution, c: &[f64], m: usize) -> f64 {
        sol.flows.iter().map(|&(i, j, f)| f * c[i * m + j]).sum()
    }

    /// Optimality certificate: dual feasibility, complementary slackness, zero gap.
    fn assert_certified(sol: &Solution, c: &[f64], a: &[f64], b: &[f64], what: &str) {
        let m = b.len();
        let scale = 1e-9 * (1.0 + c.iter().fold(0.0f64, |x, y| x.max(y.abs())));
        assert_eq!(sol.termination, Termination::Optimal, "{what}");
        for (i, ui) in sol.u.iter().enumerate() {
            for (j, vj) in sol.v.iter().enumerate() {
                assert!(ui + vj <= c[i * m + j] + scale, "{what}: dual feasibility");
            }
        }
        for &(i, j, _) in &sol.flows {
            assert!(
                (sol.u[i] + sol.v[j] - c[i * m + j]).abs() <= scale,
                "{what}: slackness"
            );
        }
        let dual: f64 = a.iter().zip(&sol.u).map(|(w, u)| w * u).sum::<f64>()
            + b.iter().zip(&sol.v).map(|(w, v)| w * v).sum::<f64>();
        assert!(
            (dual - transport_cost(sol, c, m)).abs() <= scale,
            "{what}: gap"
        );
        let mut rows = vec![0.0; a.len()];
        let mut cols = vec![0.0; m];
        for &(i, j, f) in &sol.flows {
            rows[i] += f;
            cols[j] += f;
        }
        let err: f64 = rows
            .iter()
            .zip(a)
            .chain(cols.iter().zip(b))
            .map(|(x, w)| (x - w).abs())
            .sum();
        assert!(err <= 1e-12, "{what}: marginals off by {err:e}");
    }

    #[test]
    fn warm_starts_reach_the_cold_optimum() {
        let mut seed = 21;
        for trial in 0..120 {
            let (n, m) = (1 + trial % 7, 1 + (trial / 7) % 6);
            let (n, m) = if trial % 3 == 0 { (n, n) } else { (n, m) };
            // Uniform weights (assignment-like, very degenerate) or integer masses (ties).
            let weights = |k: usize, seed: &mut u64| -> Vec<f64> {
                if trial % 2 == 0 {
                    vec![1.0 / k as f64; k]
                } else {
                    (0..k).map(|_| 1.0 + (lcg(seed) * 4.0).floor()).collect()
                }
            };
            let mut a = weights(n, &mut seed);
            let mut b = weights(m, &mut seed);
            if trial % 2 == 1 {
                // Balance the integer masses exactly on the last sink.
                let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
                if sa > sb {
                    b[m - 1] += sa - sb;
                } else {
                    a[n - 1] += sb - sa;
                }
            }
            // Integer costs (many ties, degenerate pivots) or continuous ones.
            let draw = |seed: &mut u64| -> Vec<f64> {
                (0..n * m)
                    .map(|_| {
                        if trial % 4 < 2 {
                            (lcg(seed) * 5.0).floor()
                        } else {
                            lcg(seed) * 10.0 - 3.0
                        }
                    })
                    .collect()
            };
            let c1 = draw(&mut seed);
            let (_, basis) = solve(&c1, &a, &b, usize::MAX, None, &Observer::new()).unwrap();
            // The next cost: a fresh one, or a small change of the first.
            let c2: Vec<f64> = if trial % 5 == 0 {
                draw(&mut seed)
            } else {
                c1.iter()
                    .map(|&c| {
                        if lcg(&mut seed) < 0.2 {
                            c + (lcg(&mut seed) * 3.0).floor() - 1.0
                        } else {
                            c
                        }
                    })
                    .collect()
            };
            let (cold, _) = solve(&c2, &a, &b, usize::MAX, None, &Observer::new()).unwrap();
            let (warm, _) = solve(&c2, &a, &b, usize::MAX, Some(basis), &Observer::new()).unwrap();
            let what = format!("trial {trial} ({n} x {m})");
            assert_certified(&warm, &c2, &a, &b, &what);
            let (want, got) = (transport_cost(&cold, &c2, m), transport_cost(&warm, &c2, m));
            assert!(
                (want - got).abs() <= 1e-12 * (1.0 + want.abs()),
                "{what}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_warm_tree_through_a_forbidden_pair_is_dropped() {
        let c1 = [0.0, 5.0, 5.0, 0.0];
        let w = [0.5, 0.5];
        let (_, basis) = solve(&c1, &w, &w, usize::MAX, None, &Observer::new()).unwrap();
        // The diagonal (in the warm tree) becomes forbidden.
        let c2 = [f64::INFINITY, 1.0, 2.0, f64::INFINITY];
        let (sol, _) = solve(&c2, &w, &w, usize::MAX, Some(basis), &Observer::new()).unwrap();
        assert_eq!(sol.termination, Termination::Optimal);
        assert_eq!(transport_cost(&sol, &c2, 2), 1.5);
    }

    #[test]
    fn the_north_west_basis_is_optimal_on_monge_costs() {
        let mut seed = 3;
        for trial in 0..60 {
            let (n, m) = (1 + trial % 9, 1 + (trial * 5) % 8);
            let (n, m) = if trial % 2 == 0 { (n, n) } else { (n, m) };
            let uniform = trial % 4 < 2;
            let mut a: Vec<f64> = (0..n)
                .map(|_| {
                    if uniform {
                        1.0
                    } else {
                        1.0 + (lcg(&mut seed) * 3.0).floor()
                    }
                })
                .collect();
            let mut b: Vec<f64> = (0..m)
                .map(|_| {
                    if uniform {
                        1.0
                    } else {
                        1.0 + (lcg(&mut seed) * 3.0).floor()
                    }
                })
                .collect();
            let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
            if sa > sb {
                b[m - 1] += sa - sb;
            } else {
                a[n - 1] += sb - sa;
            }
            // C_ij = f_i + g_j − x_i·y_j, with repeated keys (ties) half of the time.
            let key = |seed: &mut u64| {
                if trial % 3 == 0 {
                    (lcg(seed) * 3.0).floor()
                } else {
                    lcg(seed) * 2.0 - 1.0
                }
            };
            let x: Vec<f64> = (0..n).map(|_| key(&mut seed)).collect();
            let y: Vec<f64> = (0..m).map(|_| key(&mut seed)).collect();
            let f: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
            let g: Vec<f64> = (0..m).map(|_| lcg(&mut seed)).collect();
            let c: Vec<f64> = (0..n * m)
                .map(|k| f[k / m] + g[k % m] - x[k / m] * y[k % m])
                .collect();
            let by_key = |key: &[f64]| {
                let mut order: Vec<usize> = (0..key.len()).collect();
                order.sort_by(|&p, &q| key[q].total_cmp(&key[p]));
                order
            };
            let basis = Basis::north_west(&a, &b, &by_key(&x), &by_key(&y)).expect("balanced");
            let (warm, _) = solve(&c, &a, &b, usize::MAX, Some(basis), &Observer::new()).unwrap();
            let what = format!("trial {trial} ({n} x {m})");
            assert_certified(&warm, &c, &a, &b, &what);
            // Only degenerate pivots (dual adjustments) remain.
            assert!(
                warm.iterations <= n + m,
                "{what}: {} pivots",
                warm.iterations
            );
            let (cold, _) = solve(&c, &a, &b, usize::MAX, None, &Observer::new()).unwrap();
            let (want, got) = (transport_cost(&cold, &c, m), transport_cost(&warm, &c, m));
            assert!(
                (want - got).abs() <= 1e-12 * (1.0 + want.abs()),
                "{what}: {got} vs {want}"
            );
            // Any order gives a feasible start that reaches the optimum.
            let shuffled: Vec<usize> = (0..n).rev().collect();
            let basis = Basis::north_west(&a, &b, &shuffled, &(0..m).collect::<Vec<_>>()).unwrap();
            let (any, _) = solve(&c, &a, &b, usize::MAX, Some(basis), &Observer::new()).unwrap();
            assert_certified(&any, &c, &a, &b, &what);
        }
        // Masses that differ beyond rounding give no basis.
        assert!(Basis::north_west(&[1.0, 1.0], &[1.0], &[0, 1], &[0]).is_none());
        assert!(Basis::north_west(&[1.0], &[1.0, 1.0], &[0], &[0, 1]).is_none());
    }

    #[test]
    fn forbidden_pairs_can_make_a_problem_infeasible() {
        let inf = f64::INFINITY;
        let c = [0.0, inf, inf, inf];
        let err = solve(
            &c,
            &[0.5, 0.5],
            &[0.5, 0.5],
            usize::MAX,
            None,
            &Observer::new(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Infeasible { .. }), "{err}");
        let c = [inf, 1.0, 2.0, inf];
        let (sol, _) = solve(
            &c,
            &[0.5, 0.5],
            &[0.5, 0.5],
            usize::MAX,
            None,
            &Observer::new(),
        )
        .unwrap();
        let cost: f64 = sol.flows.iter().map(|&(i, j, f)| f * c[i * 2 + j]).sum();
        assert_eq!(cost, 1.5);
    }
}
