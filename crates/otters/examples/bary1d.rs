//! scratch
use ndarray::{Array1, Array2};
use otters::barycenter::{BarycenterInput, FixedSupportBarycenter};
use otters::geometry::DenseCost;
use std::time::Instant;

fn main() {
    let n = 200;
    let x: Array1<f64> = Array1::linspace(0.0, 1.0, n);
    let c = Array2::from_shape_fn((n, n), |(i, j)| (x[i] - x[j]).powi(2));
    let geom = DenseCost::new(c.view()).unwrap();
    let hs: Vec<Array1<f64>> = [(0.2, 0.05), (0.5, 0.1), (0.8, 0.04)]
        .iter()
        .map(|&(m, w): &(f64, f64)| {
            let h = x.mapv(|t| (-(t - m).powi(2) / (2.0 * w * w)).exp() + 1e-4);
            let s = h.sum();
            h / s
        })
        .collect();
    let inputs: Vec<_> = hs
        .iter()
        .map(|h| BarycenterInput::new(&geom, h.view()))
        .collect();
    let solver = FixedSupportBarycenter {
        threshold: 1e-8,
        ..FixedSupportBarycenter::new(1e-3)
    };
    for _ in 0..3 {
        let t0 = Instant::now();
        let out = solver.solve(&inputs, None).unwrap();
        println!(
            "{} its {:.2} ms",
            out.iterations(),
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
}
