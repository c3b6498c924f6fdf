//! The `otters` binary end to end: output, exit codes, one-line errors.

use std::process::{Command, Output};

fn otters(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otters"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn demo_solves_both_problems_and_reports_them() {
    let out = otters(&["demo", "--n", "300"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("balanced") && text.contains("unbalanced"),
        "{text}"
    );
    assert_eq!(text.matches("converged in").count(), 2, "{text}");
    assert!(!text.contains("NOT converged"));
}

#[test]
fn demo_json_is_machine_readable_and_consistent() {
    let out = otters(&["demo", "--n", "200", "--json", "--seed", "3"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let solves = report["solves"].as_array().unwrap();
    assert_eq!(solves.len(), 2);
    for s in solves {
        assert_eq!(s["converged"], true);
        let (reg, linear) = (
            s["reg_ot_cost"].as_f64().unwrap(),
            s["linear_cost"].as_f64().unwrap(),
        );
        assert!(linear > 0.0 && reg.is_finite());
        assert!(s["marginal_error"].as_f64().unwrap() <= s["threshold"].as_f64().unwrap());
    }
    // Balanced: the plan moves all the mass; unbalanced with a small rho moves less.
    assert!((solves[0]["transported_mass"].as_f64().unwrap() - 1.0).abs() < 1e-6);
    assert!(solves[1]["transported_mass"].as_f64().unwrap() < 1.0);
    let again = otters(&["demo", "--n", "200", "--json", "--seed", "3"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        again["solves"][0]["reg_ot_cost"], report["solves"][0]["reg_ot_cost"],
        "seeded data is reproducible"
    );
}

#[test]
fn invalid_flags_are_usage_errors_naming_the_flag() {
    for (flag, value) in [
        ("--epsilon", "-1"),
        ("--epsilon", "nan"),
        ("--threshold", "0"),
        ("--n", "0"),
        ("--max-iterations", "1e20"),
    ] {
        let out = otters(&["demo", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
    assert_eq!(otters(&[]).status.code(), Some(2));
    assert_eq!(otters(&["transport"]).status.code(), Some(2));
}

#[test]
fn non_convergence_warns_and_fails_only_under_strict() {
    let out = otters(&["demo", "--n", "100", "--max-iterations", "2"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not converge"));
    let out = otters(&["demo", "--n", "100", "--max-iterations", "2", "--strict"]);
    assert_eq!(out.status.code(), Some(3));
}
