//! The `otters` binary end to end (RELIABILITY.md §D and §E): outputs, reports, exit codes,
//! one-line errors naming the file, atomic results, Ctrl-C and closed pipes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use otters_io::npy;

fn otters(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otters"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A scratch directory with two small point clouds and a cost matrix.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let x: Vec<f64> = (0..40).map(|k| ((k * 37) % 17) as f64 / 7.0).collect();
    let y: Vec<f64> = (0..30)
        .map(|k| ((k * 11) % 13) as f64 / 5.0 + 0.5)
        .collect();
    std::fs::write(dir.path().join("x.npy"), npy::encode(&[20, 2], &x)).unwrap();
    std::fs::write(dir.path().join("y.npy"), npy::encode(&[15, 2], &y)).unwrap();
    let cost: String = (0..4)
        .map(|i| {
            (0..3)
                .map(|j| format!("{}", (i + 2 * j) as f64 / 3.0))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(dir.path().join("C.csv"), cost).unwrap();
    std::fs::write(dir.path().join("a.csv"), "0.1\n0.2\n0.3\n0.4\n").unwrap();
    dir
}

fn read_npy(path: &Path) -> npy::NpyArray {
    npy::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn demo_prints_a_table_and_writes_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = otters(&["demo", "--n", "400"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for method in ["exact", "sinkhorn", "unbalanced"] {
        assert!(text.contains(method), "{text}");
    }
    assert!(!text.contains("NO"), "everything converges: {text}");
    let png = std::fs::read(dir.path().join("otters-demo.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);

    let out = otters(
        &["demo", "--n", "300", "--json", "--plot", "demo.svg"],
        dir.path(),
    );
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let (exact, sinkhorn) = (
        rows[0]["cost"].as_f64().unwrap(),
        rows[1]["cost"].as_f64().unwrap(),
    );
    assert!(
        exact > 0.0 && sinkhorn >= exact - 1e-12,
        "entropic plans cost at least the exact optimum"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("demo.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    let out = otters(&["demo", "--n", "100", "--no-plot"], dir.path());
    assert!(out.status.success() && !stdout(&out).contains("plot written"));
}

#[test]
fn solve_writes_a_consistent_report_potentials_and_plan() {
    let ws = workspace();
    let d = ws.path();
    let out = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--method",
            "sinkhorn",
            "--epsilon",
            "0.1",
            "--out",
            "res",
            "--plot",
            "p.png",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r = report(&d.join("res"));
    assert_eq!(r["status"], "converged");
    assert_eq!(
        (r["problem"]["n"].as_u64(), r["problem"]["m"].as_u64()),
        (Some(20), Some(15))
    );
    assert!(r["marginal_error"].as_f64().unwrap() <= 1e-6);
    assert_eq!(r["parameters"]["epsilon"].as_f64(), Some(0.1));
    let plan = read_npy(&d.join("res/plan.npy"));
    assert_eq!(plan.shape, vec![20, 15]);
    let row_sums: Vec<f64> = plan.data.chunks(15).map(|r| r.iter().sum()).collect();
    assert!(row_sums.iter().all(|s| (s - 1.0 / 20.0).abs() < 1e-6));
    let cost_from_report = r["cost"].as_f64().unwrap();
    assert!(cost_from_report > 0.0);
    assert_eq!(read_npy(&d.join("res/f.npy")).shape, vec![20]);
    assert!(
        std::fs::read(d.join("p.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );

    // Exact OT from a CSV cost with CSV weights: a sparse plan in plan.npz.
    let out = otters(
        &[
            "solve", "--cost", "C.csv", "--a", "a.csv", "--method", "exact", "--out", "exact",
            "--json",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed,
        report(&d.join("exact")),
        "--json prints the report it writes"
    );
    assert_eq!(printed["solver"], "network simplex");
    let npz = std::fs::read(d.join("exact/plan.npz")).unwrap();
    let values = otters_io::npz::read(&npz, Some("values"), 1 << 20).unwrap();
    assert!((values.data.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(values.data.len() < 4 + 3);
}

/// `--precision f32` solves with the cost in float32 (points and a stored cost): the report
/// says so and its numbers agree with the float64 run to the float32 path's accuracy.
#[test]
fn precision_f32_agrees_with_f64_and_is_reported() {
    let ws = workspace();
    let d = ws.path();
    let run = |inputs: &[&str], precision: &str, out: &str| {
        let mut args = vec!["solve"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&[
            "--method",
            "sinkhorn",
            "--epsilon",
            "0.05",
            "--threshold",
            // float32 costs put a floor near 1e-8 under the marginal error.
            "1e-7",
            "--precision",
            precision,
            "--out",
            out,
        ]);
        let o = otters(&args, d);
        assert!(o.status.success(), "{}", stderr(&o));
        report(&d.join(out))
    };
    for (inputs, tag) in [
        (&["--x", "x.npy", "--y", "y.npy"][..], "points"),
        (&["--cost", "C.csv"][..], "cost"),
    ] {
        let r64 = run(inputs, "f64", &format!("{tag}64"));
        let r32 = run(inputs, "float32", &format!("{tag}32"));
        assert_eq!(r64["parameters"]["precision"], "float64");
        assert_eq!(r32["parameters"]["precision"], "float32");
        let (c64, c32) = (
            r64["regularized_cost"].as_f64().unwrap(),
            r32["regularized_cost"].as_f64().unwrap(),
        );
        assert!(
            (c64 - c32).abs() <= 1e-6 * c64.abs().max(1.0),
            "{tag}: {c64} vs {c32}"
        );
        assert_eq!(r32["status"], "converged");
    }
    let o = otters(&["solve", "--cost", "C.csv", "--precision", "f16"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--precision"), "{}", stderr(&o));
}

#[test]
fn e1_e2_e3_usage_errors_exit_2_naming_the_flag() {
    let ws = workspace();
    let d = ws.path();
    assert_eq!(otters(&[], d).status.code(), Some(2));
    assert_eq!(otters(&["transport"], d).status.code(), Some(2));
    assert_eq!(
        otters(&["solve", "--x", "x.npy", "--y", "y.npy", "--bogus"], d)
            .status
            .code(),
        Some(2)
    );
    let both = otters(
        &["solve", "--x", "x.npy", "--y", "y.npy", "--cost", "C.csv"],
        d,
    );
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(stderr(&both).contains("--cost"));
    let neither = otters(&["solve", "--method", "exact"], d);
    assert_eq!(neither.status.code(), Some(2));
    let lonely = otters(&["solve", "--x", "x.npy"], d);
    assert_eq!(lonely.status.code(), Some(2));
    for (flag, value) in [
        ("--epsilon", "-1"),
        ("--epsilon", "nan"),
        ("--threshold", "0"),
        ("--max-iterations", "1e20"),
        ("--rho", "inf"),
    ] {
        let out = otters(&["solve", "--x", "x.npy", "--y", "y.npy", flag, value], d);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&out).contains(flag), "{flag}: {}", stderr(&out));
    }
    let threads = otters(&["--threads", "0", "demo"], d);
    assert_eq!(threads.status.code(), Some(2));
    assert!(stderr(&threads).contains("--threads"));
    let one_thread = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--threads",
            "1",
            "--json",
        ],
        d,
    );
    let two_threads = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--threads",
            "2",
            "--json",
        ],
        d,
    );
    let cost = |o: &Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["cost"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(
        cost(&one_thread),
        cost(&two_threads),
        "results do not depend on --threads"
    );
    let rho_without_unbalanced =
        otters(&["solve", "--x", "x.npy", "--y", "y.npy", "--rho", "1"], d);
    assert_eq!(rho_without_unbalanced.status.code(), Some(2));
    assert!(stderr(&rho_without_unbalanced).contains("--method unbalanced"));
    let help = otters(&["solve", "--help"], d);
    assert!(stdout(&help).contains("Examples:") && stdout(&help).contains("--relative-epsilon"));
}

#[test]
fn e4_e5_outputs_are_never_overwritten_by_surprise() {
    let ws = workspace();
    let d = ws.path();
    let args = [
        "solve",
        "--x",
        "x.npy",
        "--y",
        "y.npy",
        "--epsilon",
        "0.5",
        "--out",
        "res",
    ];
    assert!(otters(&args, d).status.success());
    let again = otters(&args, d);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists") && stderr(&again).contains("--force"),
        "{}",
        stderr(&again)
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(otters(&forced, d).status.success());
    // An input inside the output directory under a result's name is never replaced.
    std::fs::copy(d.join("x.npy"), d.join("res/f.npy")).unwrap();
    let clash = otters(
        &[
            "solve",
            "--x",
            "res/f.npy",
            "--y",
            "y.npy",
            "--epsilon",
            "0.5",
            "--out",
            "res",
            "--force",
        ],
        d,
    );
    assert_eq!(clash.status.code(), Some(1));
    assert!(stderr(&clash).contains("input file"), "{}", stderr(&clash));
    // A missing parent is refused before solving, in one line.
    let missing = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--out",
            "no/such/dir",
        ],
        d,
    );
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));
    assert!(stderr(&missing).contains("no/such/dir"));
    let plot = otters(
        &[
            "solve", "--x", "x.npy", "--y", "y.npy", "--plot", "plan.jpg",
        ],
        d,
    );
    assert_eq!(plot.status.code(), Some(2));
}

#[test]
fn e10_non_convergence_exits_3_with_a_report_unless_allowed() {
    let ws = workspace();
    let d = ws.path();
    let args = [
        "solve",
        "--x",
        "x.npy",
        "--y",
        "y.npy",
        "--epsilon",
        "0.001",
        "--max-iterations",
        "2",
        "--out",
        "res",
    ];
    let out = otters(&args, d);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not converged"));
    let r = report(&d.join("res"));
    assert_eq!(
        (r["status"].as_str(), r["converged"].as_bool()),
        (Some("not_converged"), Some(false))
    );
    let mut allowed = args.to_vec();
    allowed.extend(["--allow-nonconverged", "--force"]);
    assert_eq!(otters(&allowed, d).status.code(), Some(0));
}

/// Writes `bytes` as `name` in `dir` and runs `solve --cost name`.
fn solve_cost_file(dir: &Path, name: &str, bytes: &[u8]) -> Output {
    std::fs::write(dir.join(name), bytes).unwrap();
    otters(&["solve", "--cost", name, "--method", "exact"], dir)
}

fn with_header(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn d_bad_files_are_one_line_errors_naming_the_file_never_panics() {
    let ws = workspace();
    let d = ws.path();
    let good = npy::encode(&[2, 2], &[0.0, 1.0, 1.0, 0.0]);
    let mut nan = npy::encode(&[2, 2], &[0.0, 1.0, f64::NAN, 0.0]);
    let three_d = npy::encode(&[2, 1, 2], &[0.0, 1.0, 1.0, 0.0]);
    let huge = with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }\n",
        &[0; 8],
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.npy",
            good[..good.len() - 5].to_vec(),
            "truncated",
        ),
        ("empty.npy", Vec::new(), "is empty"),
        ("text.npy", b"1,2\n3,4\n".to_vec(), "not a .npy"),
        ("huge.npy", huge, "truncated"),
        ("three.npy", three_d, "2-D"),
        ("zero.npy", npy::encode(&[3, 0], &[]), "empty"),
        ("nan.npy", std::mem::take(&mut nan), "row 1, column 0"),
        ("ragged.csv", b"1,2\n3\n".to_vec(), "line 2"),
        ("nan.csv", b"1,nan\n2,3\n".to_vec(), "nan/inf"),
        ("big.csv", b"1,1e400\n2,3\n".to_vec(), "overflows"),
        ("binary.csv", vec![0xff, 0xfe, 0x00, 0x31], "not UTF-8"),
        ("mislabelled.csv", good.clone(), "content is .npy"),
    ];
    for (name, bytes, fragment) in cases {
        let out = solve_cost_file(d, name, &bytes);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(name) && err.contains(fragment),
            "{name}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
        assert!(!err.contains("panicked"));
    }
    // D17: a directory, a missing file, standard input.
    std::fs::create_dir(d.join("adir")).unwrap();
    for (arg, fragment) in [
        ("adir", "directory"),
        ("missing.npy", "cannot read"),
        ("-", "standard input"),
    ] {
        let out = otters(&["solve", "--cost", arg], d);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(fragment), "{arg}: {}", stderr(&out));
    }
    // A FIFO is refused without blocking on it.
    if Command::new("mkfifo")
        .arg(d.join("pipe"))
        .status()
        .is_ok_and(|s| s.success())
    {
        let out = otters(&["solve", "--cost", "pipe"], d);
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    // Paths with spaces work.
    std::fs::copy(d.join("x.npy"), d.join("my points.npy")).unwrap();
    assert!(
        otters(
            &[
                "solve",
                "--x",
                "my points.npy",
                "--y",
                "y.npy",
                "--method",
                "exact"
            ],
            d
        )
        .status
        .success()
    );
}

#[test]
fn e6_ctrl_c_stops_promptly_with_a_partial_report_and_no_partial_results() {
    let ws = workspace();
    let d = ws.path();
    let n = 2500;
    let x: Vec<f64> = (0..2 * n)
        .map(|k| ((k * 7919) % 1000) as f64 / 100.0)
        .collect();
    std::fs::write(d.join("big.npy"), npy::encode(&[n, 2], &x)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otters"))
        .args([
            "solve",
            "--x",
            "big.npy",
            "--y",
            "big.npy",
            "--epsilon",
            "1e-4",
            "--threshold",
            "1e-15",
            "--max-iterations",
            "100000000",
            "--out",
            "res",
        ])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?} to stop",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let r = report(&d.join("res"));
    assert_eq!(r["status"], "interrupted");
    assert!(r["iterations"].as_u64().unwrap() > 0);
    assert!(!d.join("res/f.npy").exists() && !d.join("res/plan.npy").exists());
    let leftovers: Vec<PathBuf> = std::fs::read_dir(d.join("res"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(leftovers.len(), 1, "only report.json: {leftovers:?}");
}

#[test]
fn e7_a_closed_pipe_is_a_quiet_success() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otters"))
        .args(["demo", "--n", "200", "--no-plot"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with("otters demo"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn gw_and_fgw_solve_across_spaces_and_refuse_bad_combinations() {
    let dir = workspace();
    let d = dir.path();
    // y3: the 20 source points, embedded in 3-D, reversed and shifted (an isometric copy).
    let x: Vec<f64> = (0..40).map(|k| ((k * 37) % 17) as f64 / 7.0).collect();
    let y3: Vec<f64> = (0..20)
        .rev()
        .flat_map(|i| [x[2 * i] + 1.0, -3.0, x[2 * i + 1]])
        .collect();
    std::fs::write(d.join("y3.npy"), npy::encode(&[20, 3], &y3)).unwrap();
    let out = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y3.npy",
            "--method",
            "gw",
            "--scale-cost",
            "max",
            "--out",
            "gw",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rep = report(&d.join("gw"));
    assert_eq!(rep["method"], "gw");
    assert_eq!(rep["solver"], "conditional gradient GW");
    assert!(rep["cost"].as_f64().unwrap().abs() < 1e-12, "{rep}");
    assert!(rep["marginal_error"].as_f64().unwrap() < 1e-12);
    let plan = read_npy(&d.join("gw/plan.npy"));
    assert_eq!(plan.shape, vec![20, 20]);
    assert!(!d.join("gw/f.npy").exists());
    // Entropic GW with --epsilon.
    let out = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y3.npy",
            "--method",
            "gw",
            "--scale-cost",
            "max",
            "--epsilon",
            "0.05",
            "--json",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rep: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rep["solver"], "entropic GW");
    assert_eq!(rep["converged"], true);
    // Fused GW on two 2-D clouds (the linear cost comes from the points).
    let out = otters(
        &[
            "solve", "--x", "x.npy", "--y", "y.npy", "--method", "fgw", "--alpha", "0.3", "--json",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Usage errors (exit 2) naming what is wrong.
    for (args, needle) in [
        (
            vec!["--x", "x.npy", "--y", "y3.npy", "--method", "fgw"],
            "--cost",
        ),
        (
            vec![
                "--x", "x.npy", "--y", "y.npy", "--method", "gw", "--rho", "1",
            ],
            "--rho",
        ),
        (
            vec![
                "--x", "x.npy", "--y", "y.npy", "--method", "fgw", "--alpha", "1.5",
            ],
            "--alpha",
        ),
        (
            vec![
                "--x",
                "x.npy",
                "--y",
                "y.npy",
                "--method",
                "gw",
                "--relative-epsilon",
                "0.1",
            ],
            "--epsilon",
        ),
        (
            vec![
                "--cost-xx",
                "C.csv",
                "--cost-yy",
                "C.csv",
                "--method",
                "sinkhorn",
            ],
            "--cost-xx",
        ),
        (
            vec![
                "--x", "x.npy", "--y", "y.npy", "--cost", "C.csv", "--method", "gw",
            ],
            "--cost",
        ),
    ] {
        let mut full = vec!["solve"];
        full.extend(args);
        let out = otters(&full, d);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{full:?}: {}", stderr(&out));
    }
    // A non-square cost within a space is an input error naming the argument.
    let out = otters(
        &[
            "solve",
            "--cost-xx",
            "C.csv",
            "--cost-yy",
            "C.csv",
            "--method",
            "gw",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("geom_xx"), "{}", stderr(&out));
}

#[test]
fn ugw_compares_spaces_of_different_masses_and_refuses_bad_flags() {
    let dir = workspace();
    let d = dir.path();
    // y3: the 20 source points in 3-D, reversed and shifted; b gives them mass 2.
    let x: Vec<f64> = (0..40).map(|k| ((k * 37) % 17) as f64 / 7.0).collect();
    let y3: Vec<f64> = (0..20)
        .rev()
        .flat_map(|i| [x[2 * i] + 1.0, -3.0, x[2 * i + 1]])
        .collect();
    std::fs::write(d.join("y3.npy"), npy::encode(&[20, 3], &y3)).unwrap();
    std::fs::write(d.join("b2.npy"), npy::encode(&[20], &[0.1; 20])).unwrap();
    let base = [
        "solve",
        "--x",
        "x.npy",
        "--y",
        "y3.npy",
        "--b",
        "b2.npy",
        "--scale-cost",
        "max",
    ];
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let out = otters(
        &with(&[
            "--method",
            "ugw",
            "--rho",
            "1",
            "--epsilon",
            "0.01",
            "--out",
            "ugw",
        ]),
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rep = report(&d.join("ugw"));
    assert_eq!(rep["method"], "ugw");
    assert_eq!(rep["solver"], "unbalanced GW");
    assert_eq!(rep["converged"], true);
    // Masses 1 and 2: the plan's mass lies between them (geometric mean √2 at most).
    let mass = rep["transported_mass"].as_f64().unwrap();
    assert!(mass > 1.0 && mass < 2f64.sqrt(), "{rep}");
    assert!(rep["cost"].as_f64().unwrap() > 0.0, "{rep}");
    let plan = read_npy(&d.join("ugw/plan.npy"));
    assert_eq!(plan.shape, vec![20, 20]);
    // Each source point sends most of its row to its mirror image (x_i ↔ y3_{19−i}).
    for i in 0..20 {
        let row = &plan.data[20 * i..20 * (i + 1)];
        let best = row.iter().copied().fold(0.0, f64::max);
        assert_eq!(row[19 - i], best, "row {i}: {row:?}");
    }
    // The balanced solvers refuse the unequal masses (input error, exit 1).
    let out = otters(&with(&["--method", "gw"]), d);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Usage errors (exit 2) naming the flag.
    for (extra, needle) in [
        (vec!["--method", "ugw", "--epsilon", "0.01"], "--rho"),
        (vec!["--method", "ugw", "--rho", "1"], "--epsilon"),
        (
            vec!["--method", "ugw", "--rho", "1", "--epsilon", "-1"],
            "--epsilon",
        ),
        (
            vec!["--method", "ugw", "--rho", "nan", "--epsilon", "0.1"],
            "--rho",
        ),
        (
            vec!["--method", "ugw", "--rho", "0", "--epsilon", "0.1"],
            "--rho",
        ),
        (
            vec!["--method", "ugw", "--rho", "1", "--relative-epsilon", "0.1"],
            "--epsilon",
        ),
        (
            vec![
                "--method",
                "ugw",
                "--rho",
                "1",
                "--epsilon",
                "0.1",
                "--penalty",
                "tv",
            ],
            "--penalty",
        ),
    ] {
        let full = with(&extra);
        let out = otters(&full, d);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{full:?}: {}", stderr(&out));
    }
}

/// Low-rank GW between a 2-D cloud and a 3-D one: the report's loss is the brute-force GW
/// loss of the written plan (costs divided by their maximum, as --scale-cost max), the plan
/// has the uniform marginals, and the KL-only penalty is a usage error.
#[test]
fn lrgw_reports_the_gw_loss_of_its_plan() {
    let dir = workspace();
    let d = dir.path();
    let x: Vec<f64> = (0..40).map(|k| ((k * 37) % 17) as f64 / 7.0).collect();
    let y3: Vec<f64> = (0..20)
        .rev()
        .flat_map(|i| [x[2 * i] + 1.0, -3.0, x[2 * i + 1]])
        .collect();
    std::fs::write(d.join("y3.npy"), npy::encode(&[20, 3], &y3)).unwrap();
    let base = [
        "solve",
        "--x",
        "x.npy",
        "--y",
        "y3.npy",
        "--scale-cost",
        "max",
        "--method",
        "lrgw",
        "--rank",
        "4",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", "lrgw"]);
    let out = otters(&args, d);
    assert!(out.status.success(), "{}", stderr(&out));
    let rep = report(&d.join("lrgw"));
    assert_eq!(rep["method"], "lrgw");
    assert_eq!(rep["solver"], "low-rank GW");
    let plan = read_npy(&d.join("lrgw/plan.npy"));
    assert_eq!(plan.shape, vec![20, 20]);
    let p = |i: usize, j: usize| plan.data[20 * i + j];
    for i in 0..20 {
        let row: f64 = (0..20).map(|j| p(i, j)).sum();
        let col: f64 = (0..20).map(|j| p(j, i)).sum();
        assert!((row - 0.05).abs() < 1e-5 && (col - 0.05).abs() < 1e-5);
    }
    let costs = |pts: &[f64], d: usize| {
        let n = pts.len() / d;
        let c: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                (0..d)
                    .map(|t| (pts[i * d + t] - pts[j * d + t]).powi(2))
                    .sum()
            })
            .collect();
        let max = c.iter().copied().fold(0.0, f64::max);
        c.into_iter().map(|v| v / max).collect::<Vec<_>>()
    };
    let (cx, cy) = (costs(&x, 2), costs(&y3, 3));
    let mut loss = 0.0;
    for i in 0..20 {
        for k in 0..20 {
            for j in 0..20 {
                for l in 0..20 {
                    loss += (cx[20 * i + k] - cy[20 * j + l]).powi(2) * p(i, j) * p(k, l);
                }
            }
        }
    }
    let cost = rep["cost"].as_f64().unwrap();
    assert!((cost - loss).abs() <= 1e-4 * loss, "{cost} vs {loss}");
    for (extra, needle) in [
        (vec!["--penalty", "tv", "--rho", "1"], "--penalty"),
        (vec!["--relative-epsilon", "0.1"], "--epsilon"),
    ] {
        let mut full = base.to_vec();
        full.extend_from_slice(&extra);
        let out = otters(&full, d);
        assert_eq!(out.status.code(), Some(2), "{full:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{full:?}: {}", stderr(&out));
    }
}

#[test]
fn lowrank_writes_a_plan_of_the_requested_rank() {
    let dir = workspace();
    let d = dir.path();
    let out = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--method",
            "lowrank",
            "--rank",
            "3",
            "--scale-cost",
            "max",
            "--out",
            "lr",
        ],
        d,
    );
    assert!(out.status.code() == Some(0), "{}", stderr(&out));
    let rep = report(&d.join("lr"));
    assert_eq!(rep["solver"], "low-rank sinkhorn (rank 3)");
    assert!(rep["marginal_error"].as_f64().unwrap() < 1e-3);
    let plan = read_npy(&d.join("lr/plan.npy"));
    assert_eq!(plan.shape, vec![20, 15]);
    let out = otters(
        &[
            "solve", "--x", "x.npy", "--y", "y.npy", "--method", "lowrank", "--rank", "0",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = otters(
        &[
            "solve", "--x", "x.npy", "--y", "y.npy", "--method", "lowrank", "--rank", "40",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("rank"), "{}", stderr(&out));
    // Unbalanced low-rank OT: --rho relaxes the marginals by KL (total variation is refused).
    let args = [
        "solve",
        "--x",
        "x.npy",
        "--y",
        "y.npy",
        "--method",
        "lowrank",
        "--rank",
        "3",
        "--rho",
        "0.5",
        "--scale-cost",
        "max",
        "--out",
        "lru",
    ];
    let out = otters(&args, d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rep = report(&d.join("lru"));
    let mass = rep["transported_mass"].as_f64().unwrap();
    assert!(mass > 0.0 && mass < 1.0, "mass {mass}");
    let out = otters(&[&args[..11], &["--penalty", "tv"]].concat(), d);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--penalty"), "{}", stderr(&out));
}

/// `--method divergence`: the value of the library's `SinkhornDivergence` on the same clouds
/// (with the cost scale of the cross term), 0 between a cloud and itself, balanced and
/// unbalanced; and the flags it cannot take are usage errors naming them.
#[test]
fn divergence_reports_the_library_value_and_zero_on_equal_clouds() {
    use otters::divergence::SinkhornDivergence;
    use otters::geometry::{PointCloud, ScaleCost};
    use otters::linear::{Epsilon, MarginalPenalty};

    let ws = workspace();
    let dir = ws.path();
    let o = otters(
        &[
            "solve",
            "--x",
            "x.npy",
            "--y",
            "y.npy",
            "--method",
            "divergence",
            "--epsilon",
            "0.05",
            "--scale-cost",
            "max",
            "--threshold",
            "1e-9",
            "--out",
            "res",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rep = report(&dir.join("res"));
    let got = rep["divergence"].as_f64().unwrap();
    let x = read_npy(&dir.join("x.npy"));
    let y = read_npy(&dir.join("y.npy"));
    let x = ndarray::Array2::from_shape_vec((20, 2), x.data).unwrap();
    let y = ndarray::Array2::from_shape_vec((15, 2), y.data).unwrap();
    let max = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let max = otters::geometry::Geometry::summary(&max).max;
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .and_then(|c| c.with_scale(ScaleCost::By(max)))
        .unwrap();
    let mut div = SinkhornDivergence::new(Epsilon::Absolute(0.05));
    div.sinkhorn.threshold = 1e-9;
    div.sinkhorn.max_iterations = 10_000;
    let want = div
        .solve_clouds(&cloud, None, None, MarginalPenalty::Hard)
        .unwrap()
        .value();
    assert!(want > 0.01 && (got - want).abs() < 1e-10, "{got} vs {want}");
    assert!(stdout(&o).contains("sinkhorn divergence"));

    for extra in [&[][..], &["--rho", "0.5"][..]] {
        let mut args = vec![
            "solve",
            "--x",
            "x.npy",
            "--y",
            "x.npy",
            "--method",
            "divergence",
            "--epsilon",
            "0.1",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = otters(&args, dir);
        assert!(o.status.success(), "{}", stderr(&o));
        let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(rep["divergence"].as_f64().unwrap().abs() < 1e-8, "{rep}");
    }

    for (args, flag) in [
        (
            &["solve", "--cost", "C.csv", "--method", "divergence"][..],
            "--x",
        ),
        (
            &[
                "solve",
                "--x",
                "x.npy",
                "--y",
                "y.npy",
                "--method",
                "divergence",
                "--rho-a",
                "1",
            ][..],
            "--rho",
        ),
        (
            &[
                "solve",
                "--x",
                "x.npy",
                "--y",
                "y.npy",
                "--method",
                "divergence",
                "--rho",
                "1",
                "--penalty",
                "tv",
            ][..],
            "--penalty",
        ),
        (
            &[
                "solve",
                "--x",
                "x.npy",
                "--y",
                "y.npy",
                "--method",
                "divergence",
                "--scale-cost",
                "median",
            ][..],
            "median",
        ),
    ] {
        let o = otters(args, dir);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{args:?}: {}", stderr(&o));
    }
}

/// `otters barycenter`: the library's barycenter (cost file and separable grid alike),
/// unbalanced and debiased variants, non-convergence, and bad inputs named.
#[test]
fn barycenter_writes_the_library_barycenter_and_names_bad_inputs() {
    use otters::barycenter::{BarycenterInput, FixedSupportBarycenter};
    use otters::geometry::DenseCost;

    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // Three histograms on an 8 × 8 grid (64 bins), stored n × k as POT's `A`.
    let (side, k) = (8usize, 3usize);
    let n = side * side;
    let coord = |p: usize| ((p / side) as f64 / 7.0, (p % side) as f64 / 7.0);
    let centres = [(0.2, 0.2), (0.8, 0.3), (0.5, 0.9)];
    let mut hist = ndarray::Array2::<f64>::zeros((n, k));
    for (j, (cx, cy)) in centres.iter().enumerate() {
        for p in 0..n {
            let (x, y) = coord(p);
            hist[[p, j]] = (-((x - cx).powi(2) + (y - cy).powi(2)) / 0.02).exp() + 1e-3;
        }
        let s = hist.column(j).sum();
        hist.column_mut(j).mapv_inplace(|v| v / s);
    }
    let cost = ndarray::Array2::from_shape_fn((n, n), |(p, q)| {
        let ((x1, y1), (x2, y2)) = (coord(p), coord(q));
        (x1 - x2).powi(2) + (y1 - y2).powi(2)
    });
    let write = |name: &str, shape: &[usize], data: Vec<f64>| {
        std::fs::write(dir.join(name), npy::encode(shape, &data)).unwrap();
    };
    write("H.npy", &[n, k], hist.iter().copied().collect());
    write("M.npy", &[n, n], cost.iter().copied().collect());
    write("w.npy", &[k], vec![0.5, 0.3, 0.2]);
    write("w2.npy", &[2], vec![0.5, 0.5]);

    let geom = DenseCost::new(cost.view()).unwrap();
    let columns: Vec<_> = hist.columns().into_iter().map(|c| c.to_owned()).collect();
    let inputs: Vec<_> = columns
        .iter()
        .map(|c| BarycenterInput::new(&geom, c.view()))
        .collect();
    let lambdas = ndarray::array![0.5, 0.3, 0.2];
    let solver = FixedSupportBarycenter {
        threshold: 1e-10,
        ..FixedSupportBarycenter::new(0.01)
    };
    let want = solver.solve(&inputs, Some(lambdas.view())).unwrap();

    let base = [
        "barycenter",
        "--histograms",
        "H.npy",
        "--weights",
        "w.npy",
        "--epsilon",
        "0.01",
        "--threshold",
        "1e-10",
    ];
    for (extra, out) in [
        (&["--cost", "M.npy"][..], "res_cost"),
        (&["--grid", "8,8"][..], "res_grid"),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", out]);
        let o = otters(&args, dir);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("3 histograms on 64 bins"),
            "{}",
            stdout(&o)
        );
        let got = read_npy(&dir.join(out).join("barycenter.npy"));
        assert_eq!(got.shape, vec![n]);
        for (g, w) in got.data.iter().zip(want.barycenter()) {
            assert!((g - w).abs() < 1e-10, "{out}: {g} vs {w}");
        }
        let rep = report(&dir.join(out));
        assert_eq!(rep["status"], "converged");
        assert_eq!(rep["problem"]["histograms"], 3);
        assert!(rep["stopping_error"].as_f64().unwrap() <= 1e-10);
        assert!((rep["barycenter_mass"].as_f64().unwrap() - 1.0).abs() < 1e-8);
    }

    // Unbalanced: masses may differ; the barycenter's mass lies between theirs.
    let mut heavy = hist.clone();
    heavy.column_mut(2).mapv_inplace(|v| 3.0 * v);
    write("H3.npy", &[n, k], heavy.iter().copied().collect());
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "H3.npy",
            "--cost",
            "M.npy",
            "--epsilon",
            "0.01",
            "--rho",
            "1",
            "--json",
            "--out",
            "res_rho",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mass = rep["barycenter_mass"].as_f64().unwrap();
    assert!(mass > 1.0 && mass < 3.0, "{mass}");
    let heavy_columns: Vec<_> = heavy.columns().into_iter().map(|c| c.to_owned()).collect();
    let heavy_inputs: Vec<_> = heavy_columns
        .iter()
        .map(|c| BarycenterInput::new(&geom, c.view()))
        .collect();
    let want = FixedSupportBarycenter {
        rho: 1.0,
        ..FixedSupportBarycenter::new(0.01)
    }
    .solve(&heavy_inputs, None)
    .unwrap();
    let got = read_npy(&dir.join("res_rho").join("barycenter.npy"));
    for (g, w) in got.data.iter().zip(want.barycenter()) {
        assert!((g - w).abs() < 1e-12, "unbalanced: {g} vs {w}");
    }
    // Debiased: runs on the grid, its own support cost.
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "H.npy",
            "--grid",
            "8,8",
            "--epsilon",
            "0.01",
            "--debiased",
            "--threshold",
            "1e-6",
            "--out",
            "res_deb",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let grid = otters::barycenter::unit_grid(&[8, 8]).unwrap();
    let grid_inputs: Vec<_> = columns
        .iter()
        .map(|c| BarycenterInput::new(&grid, c.view()))
        .collect();
    let want = FixedSupportBarycenter {
        threshold: 1e-6,
        ..FixedSupportBarycenter::new(0.01)
    }
    .solve_debiased(&grid_inputs, None, &grid)
    .unwrap();
    let got = read_npy(&dir.join("res_deb").join("barycenter.npy"));
    for (g, w) in got.data.iter().zip(want.barycenter()) {
        assert!((g - w).abs() < 1e-12, "debiased: {g} vs {w}");
    }
    // Not converged: exit 3 with a report, 0 with --allow-nonconverged.
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "H.npy",
            "--cost",
            "M.npy",
            "--epsilon",
            "0.01",
            "--max-iterations",
            "2",
            "--out",
            "res_nc",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(report(&dir.join("res_nc"))["status"], "not_converged");

    // Bad inputs: one line naming the file or flag, never a panic.
    for (args, code, needle) in [
        (
            &[
                "barycenter",
                "--histograms",
                "H3.npy",
                "--cost",
                "M.npy",
                "--epsilon",
                "0.01",
            ][..],
            1,
            "--rho",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--grid",
                "5,5",
                "--epsilon",
                "0.01",
            ][..],
            2,
            "--grid",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--cost",
                "M.npy",
                "--grid",
                "8,8",
                "--epsilon",
                "0.01",
            ][..],
            2,
            "--grid",
        ),
        (
            &["barycenter", "--histograms", "H.npy", "--epsilon", "0.01"][..],
            2,
            "--cost",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--cost",
                "w.npy",
                "--epsilon",
                "0.01",
            ][..],
            1,
            "w.npy",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--cost",
                "M.npy",
                "--weights",
                "w2.npy",
                "--epsilon",
                "0.01",
            ][..],
            1,
            "w2.npy",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--cost",
                "M.npy",
                "--epsilon",
                "-1",
            ][..],
            2,
            "--epsilon",
        ),
        (
            &[
                "barycenter",
                "--histograms",
                "H.npy",
                "--cost",
                "M.npy",
                "--epsilon",
                "0.1",
                "--rho",
                "1",
                "--debiased",
            ][..],
            2,
            "--debiased",
        ),
    ] {
        let o = otters(args, dir);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
    // Masses 1e-8 apart (float32 round-off) are refused by the CLI with the file named, at
    // the library's tolerance.
    let mut off = hist.clone();
    off.column_mut(1).mapv_inplace(|v| v * (1.0 + 1e-8));
    write("Hoff.npy", &[n, k], off.iter().copied().collect());
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "Hoff.npy",
            "--cost",
            "M.npy",
            "--epsilon",
            "0.01",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Hoff.npy") && stderr(&o).contains("masses differ"),
        "{}",
        stderr(&o)
    );
    write("wneg.npy", &[k], vec![0.5, -0.3, 0.2]);
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "H.npy",
            "--cost",
            "M.npy",
            "--weights",
            "wneg.npy",
            "--epsilon",
            "0.01",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("wneg.npy"), "{}", stderr(&o));
    let mut negative = hist.clone();
    negative[[5, 1]] = -0.1;
    write("Hneg.npy", &[n, k], negative.iter().copied().collect());
    let o = otters(
        &[
            "barycenter",
            "--histograms",
            "Hneg.npy",
            "--cost",
            "M.npy",
            "--epsilon",
            "0.01",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Hneg.npy") && stderr(&o).contains("row 5, column 1"),
        "{}",
        stderr(&o)
    );
}
