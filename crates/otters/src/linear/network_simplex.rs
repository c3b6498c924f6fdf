//! Primal network simplex for the transportation problem `min ⟨C, P⟩` over `Π(a, b)`
//! (ALGORITHMS.md L1; Ahuja, Magnanti & Orlin 1993, ch. 11; block-search pricing as in
//! LEMON, Kovács 2015).
//!
//! Nodes are the `n` sources, the `m` sinks and a root; every node starts attached to the
//! root by an artificial arc of prohibitive cost ("big-M"), so the initial spanning tree is
//! feasible. Pivots keep the tree *strongly feasible* (Cunningham's leaving-arc rule), which
//! rules out cycling on these very degenerate problems. The tree is stored with parent
//! pointers and child lists; a pivot re-hangs one subtree and shifts its potentials. Only
//! O(n + m) state is kept besides the cost: non-tree arcs carry no flow and are recognized
//! by a zero reduced cost, so no per-arc array is needed.

use crate::error::{Error, Result};
use crate::kernels::argmin::min_plus;
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
    fn new(cost: &'a [f64], a: &[f64], b: &[f64]) -> Self {
        let (n, m) = (a.len(), b.len());
        let nodes = n + m + 1;
        let root = n + m;
        let max_cost = cost
            .iter()
            .filter(|c| c.is_finite())
            .fold(0.0f64, |acc, c| acc.max(c.abs()));
        let artificial_cost = (nodes as f64) * (max_cost + 1.0);
        let mut tree = Tree {
            cost,
            n,
            m,
            artificial_cost,
            tolerance: 16.0 * f64::EPSILON * artificial_cost,
            parent: vec![root; nodes],
            pred_arc: (0..nodes).map(|u| n * m + u).collect(),
            pred_up: vec![true; nodes],
            flow: vec![0.0; nodes],
            depth: vec![1; nodes],
            potential: vec![0.0; nodes],
            first_child: vec![NONE; nodes],
            next_sibling: vec![NONE; nodes],
            prev_sibling: vec![NONE; nodes],
            next_arc: 0,
            block: (((n * m + n + m) as f64).sqrt() as usize).max(10),
            stack: Vec::new(),
        };
        tree.parent[root] = NONE;
        tree.pred_arc[root] = NONE;
        tree.depth[root] = 0;
        // Sources send their supply to the root, the root feeds the sinks.
        for (i, &supply) in a.iter().enumerate() {
            tree.flow[i] = supply;
            tree.potential[i] = artificial_cost;
        }
        for (j, &demand) in b.iter().enumerate() {
            let u = n + j;
            tree.flow[u] = demand;
            tree.pred_up[u] = false;
            tree.potential[u] = -artificial_cost;
        }
        for u in (0..n + m).rev() {
            tree.attach(u, root);
        }
        tree
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
/// (length m) of equal mass and a row-major `n × m` cost (`+∞` = forbidden pair).
///
/// # Errors
/// [`Error::Infeasible`] when forbidden pairs leave no feasible plan;
/// [`Error::Interrupted`] when the observer cancels.
pub(crate) fn solve(
    cost: &[f64],
    a: &[f64],
    b: &[f64],
    max_iterations: usize,
    observer: &Observer<'_>,
) -> Result<Solution> {
    let (n, m) = (a.len(), b.len());
    debug_assert_eq!(cost.len(), n * m);
    let mut tree = Tree::new(cost, a, b);
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
    Ok(Solution {
        flows,
        u,
        v,
        iterations,
        termination,
    })
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
                let sol = solve(&c, &w, &w, usize::MAX, &Observer::new()).unwrap();
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

    #[test]
    fn forbidden_pairs_can_make_a_problem_infeasible() {
        let inf = f64::INFINITY;
        let c = [0.0, inf, inf, inf];
        let err = solve(&c, &[0.5, 0.5], &[0.5, 0.5], usize::MAX, &Observer::new()).unwrap_err();
        assert!(matches!(err, Error::Infeasible { .. }), "{err}");
        let c = [inf, 1.0, 2.0, inf];
        let sol = solve(&c, &[0.5, 0.5], &[0.5, 0.5], usize::MAX, &Observer::new()).unwrap();
        let cost: f64 = sol.flows.iter().map(|&(i, j, f)| f * c[i * 2 + j]).sum();
        assert_eq!(cost, 1.5);
    }
}
