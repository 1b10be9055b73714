//! After-the-fact estimates, as in "Counting Carbon" (Luccioni & Hernandez-Garcia 2023):
//! energy = power x hours x count x utilisation; carbon = energy x PUE x grid intensity.

use crate::emissions::Emissions;
use crate::error::CarbonError;
use crate::hardware::Hardware;
use crate::location::ResolvedIntensity;
pub use crate::units::round_sig;
use crate::units::{fmt_sig, watt_hours_to_joules};
use serde::Serialize;

/// What was run: power (given, or a hardware TDP), how many devices, for how long, how busy.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateInput {
    /// Looked-up hardware, if power came from the table.
    pub hardware: Option<Hardware>,
    /// Watts per device (the hardware TDP, or `--power`).
    pub power_w: f64,
    pub count: u32,
    pub hours: f64,
    /// Fraction of the power drawn on average, (0, 1]. 1.0 = TDP at full load (an upper bound).
    pub utilization: f64,
}

/// The estimate with everything it rests on. Serialised as the JSON output of `estimate`.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// "estimated:tdp" when power came from the hardware table, "estimated:power" for `--power`.
    pub method: &'static str,
    pub hardware: Option<Hardware>,
    pub power_w: f64,
    pub count: u32,
    pub hours: f64,
    pub utilization: f64,
    pub emissions: Emissions,
    pub intensity: ResolvedIntensity,
    pub note: String,
}

/// Accepted ranges of [`EstimateInput`]: wide enough for any real fleet and run, narrow enough
/// that every product stays a finite, meaningful number (1 MW x 1e6 devices x 1e6 h = 1e18 Wh).
pub const MAX_POWER_W: f64 = 1e6;
pub const MAX_COUNT: u32 = 1_000_000;
pub const MIN_HOURS: f64 = 1e-9;
pub const MAX_HOURS: f64 = 1e6;

fn invalid(m: String) -> CarbonError {
    CarbonError::InvalidInput(m)
}

pub fn estimate(
    input: &EstimateInput,
    intensity: &ResolvedIntensity,
) -> Result<Estimate, CarbonError> {
    if !(input.power_w.is_finite() && input.power_w > 0.0 && input.power_w <= MAX_POWER_W) {
        return Err(invalid(format!(
            "--power must be a number of watts per device in (0, {MAX_POWER_W}], got {}",
            fmt_sig(input.power_w)
        )));
    }
    if !(1..=MAX_COUNT).contains(&input.count) {
        return Err(invalid(format!(
            "--count must be a whole number of devices from 1 to {MAX_COUNT}, got {}",
            input.count
        )));
    }
    let hours_ok = input.hours == 0.0 || (MIN_HOURS..=MAX_HOURS).contains(&input.hours);
    if !hours_ok {
        return Err(invalid(format!(
            "--hours must be 0 or a number from {} (3.6 microseconds) to {} (114 years), got {}",
            fmt_sig(MIN_HOURS),
            fmt_sig(MAX_HOURS),
            fmt_sig(input.hours)
        )));
    }
    if !(input.utilization.is_finite() && input.utilization > 0.0 && input.utilization <= 1.0) {
        return Err(invalid(format!(
            "--utilization must be in (0, 1], got {}",
            input.utilization
        )));
    }
    let energy_j = watt_hours_to_joules(input.power_w, input.hours)
        * f64::from(input.count)
        * input.utilization;
    let method = if input.hardware.is_some() {
        "estimated:tdp"
    } else {
        "estimated:power"
    };
    let note = format!(
        "power x hours x count x utilisation ({}); {} is an upper bound: real draw is usually below it",
        fmt_sig(input.utilization),
        if input.hardware.is_some() { "TDP at full load" } else { "a constant power" }
    );
    Ok(Estimate {
        method,
        hardware: input.hardware.clone(),
        power_w: input.power_w,
        count: input.count,
        hours: input.hours,
        utilization: input.utilization,
        emissions: intensity.emissions(energy_j),
        intensity: intensity.clone(),
        note,
    })
}

/// `training_type` of the Hugging Face model card block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingType {
    PreTraining,
    FineTuning,
}

impl TrainingType {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingType::PreTraining => "pre-training",
            TrainingType::FineTuning => "fine-tuning",
        }
    }
}

/// YAML double-quoted scalar.
fn yaml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Hugging Face model card `co2_eq_emissions` block (emissions in grams).
pub fn model_card_yaml(e: &Estimate, training_type: TrainingType) -> String {
    let hardware = match &e.hardware {
        Some(h) => format!("{} x {}", e.count, h.name),
        None => format!("{} x device at {} W", e.count, fmt_sig(e.power_w)),
    };
    let source = format!(
        "powerhungry estimate ({}): {} W x {} h x {} x utilisation {} x PUE {} at {} gCO2e/kWh ({})",
        e.method,
        fmt_sig(e.power_w),
        fmt_sig(e.hours),
        e.count,
        fmt_sig(e.utilization),
        fmt_sig(e.intensity.pue),
        fmt_sig(e.intensity.g_per_kwh),
        e.intensity.source
    );
    format!(
        "co2_eq_emissions:\n  emissions: {}\n  source: {}\n  training_type: {}\n  geographical_location: {}\n  hardware_used: {}\n",
        fmt_sig(e.emissions.co2e_g),
        yaml_str(&source),
        yaml_str(training_type.as_str()),
        yaml_str(&e.intensity.label),
        yaml_str(&hardware),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::lookup_hardware;
    use crate::location::{locate, LocationQuery, Origin};

    fn explicit(g: f64) -> ResolvedIntensity {
        locate(
            &LocationQuery {
                intensity: Some(g),
                ..Default::default()
            },
            &Origin::Flag,
        )
        .unwrap()
    }

    fn input(hw: &str, count: u32, hours: f64, u: f64) -> EstimateInput {
        let h = lookup_hardware(hw).unwrap();
        EstimateInput {
            power_w: h.tdp_w,
            hardware: Some(h),
            count,
            hours,
            utilization: u,
        }
    }

    #[test]
    fn counting_carbon_worked_example() {
        // 1 GPU x 300 W x 100 h = 30 kWh: 15 kg on 500 g/kWh, 3 kg on 100 g/kWh.
        let e = estimate(&input("V100", 1, 100.0, 1.0), &explicit(500.0)).unwrap();
        assert_eq!(e.method, "estimated:tdp");
        assert!((e.emissions.energy_kwh - 30.0).abs() < 1e-9);
        assert!((e.emissions.co2e_kg - 15.0).abs() < 1e-9);
        let e = estimate(&input("V100", 1, 100.0, 1.0), &explicit(100.0)).unwrap();
        assert!((e.emissions.co2e_kg - 3.0).abs() < 1e-9);
    }

    #[test]
    fn count_utilisation_and_pue_multiply() {
        let mut at = explicit(400.0);
        at.pue = 1.1;
        // 8 x 400 W x 10 h x 0.5 = 16 kWh IT; x 1.1 = 17.6 kWh; x 400 g = 7,040 g.
        let e = estimate(&input("A100", 8, 10.0, 0.5), &at).unwrap();
        assert!((e.emissions.energy_kwh - 16.0).abs() < 1e-9);
        assert!((e.emissions.co2e_g - 7040.0).abs() < 1e-6);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let at = explicit(100.0);
        let ok = input("T4", 1, 1.0, 1.0);
        let cases = [
            (
                EstimateInput {
                    power_w: 0.0,
                    ..ok.clone()
                },
                "--power",
            ),
            (
                EstimateInput {
                    power_w: f64::NAN,
                    ..ok.clone()
                },
                "--power",
            ),
            (
                EstimateInput {
                    count: 0,
                    ..ok.clone()
                },
                "--count",
            ),
            (
                EstimateInput {
                    hours: -1.0,
                    ..ok.clone()
                },
                "--hours",
            ),
            (
                EstimateInput {
                    utilization: 0.0,
                    ..ok.clone()
                },
                "--utilization",
            ),
            (
                EstimateInput {
                    utilization: 1.5,
                    ..ok.clone()
                },
                "--utilization",
            ),
        ];
        for (bad, flag) in cases {
            let err = estimate(&bad, &at).unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn numbers_at_the_edges_are_refused_or_finite() {
        let at = explicit(100.0);
        let ok = input("V100", 1, 1.0, 1.0);
        for (hours, flag) in [
            (1e308, "--hours"),
            (1e-320, "--hours"),
            (f64::NAN, "--hours"),
        ] {
            let bad = EstimateInput {
                hours,
                ..ok.clone()
            };
            let err = estimate(&bad, &at).unwrap_err().to_string();
            assert!(err.contains(flag) && err.contains("114 years"), "{err}");
        }
        let big = EstimateInput {
            power_w: 1e300,
            ..ok.clone()
        };
        assert!(estimate(&big, &at)
            .unwrap_err()
            .to_string()
            .contains("--power"));
        let many = EstimateInput {
            count: u32::MAX,
            ..ok.clone()
        };
        assert!(estimate(&many, &at)
            .unwrap_err()
            .to_string()
            .contains("--count"));
        // The smallest accepted duration renders as a number, not NaN or 0.
        let tiny = EstimateInput {
            hours: MIN_HOURS,
            ..ok
        };
        let e = estimate(&tiny, &at).unwrap();
        let y = model_card_yaml(&e, TrainingType::PreTraining);
        assert!(y.contains("  emissions: 3.0e-8\n"), "{y}");
    }

    proptest::proptest! {
        #[test]
        fn accepted_inputs_give_finite_figures(
            power in 1e-3..=MAX_POWER_W,
            count in 1..=MAX_COUNT,
            hours in MIN_HOURS..=MAX_HOURS,
            u in 1e-6..=1.0f64,
            g in 0.0..=crate::location::MAX_INTENSITY,
            pue in 1.0..=crate::location::MAX_PUE,
        ) {
            let mut at = explicit(g);
            at.pue = pue;
            let e = estimate(
                &EstimateInput { hardware: None, power_w: power, count, hours, utilization: u },
                &at,
            ).unwrap();
            let m = &e.emissions;
            for v in [m.energy_j, m.energy_kwh, m.facility_energy_kwh, m.co2e_g, m.co2e_kg,
                      m.equivalents.smartphone_charges, m.equivalents.miles_driven] {
                proptest::prop_assert!(v.is_finite() && v >= 0.0, "{v}");
            }
            let y = model_card_yaml(&e, TrainingType::PreTraining).to_lowercase();
            proptest::prop_assert!(!y.contains("nan") && !y.contains("inf"), "{y}");
        }
    }

    #[test]
    fn model_card_block() {
        let e = estimate(&input("V100", 1, 100.0, 1.0), &explicit(500.0)).unwrap();
        let y = model_card_yaml(&e, TrainingType::FineTuning);
        let lines: Vec<&str> = y.lines().collect();
        assert_eq!(lines[0], "co2_eq_emissions:");
        assert_eq!(lines[1], "  emissions: 15000");
        assert!(lines[2]
            .starts_with("  source: \"powerhungry estimate (estimated:tdp): 300 W x 100 h x 1"));
        assert_eq!(lines[3], "  training_type: \"fine-tuning\"");
        assert_eq!(
            lines[4],
            "  geographical_location: \"explicit 500 gCO2e/kWh\""
        );
        assert_eq!(lines[5], "  hardware_used: \"1 x NVIDIA V100 SXM2\"");
        assert_eq!(yaml_str("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(round_sig(1234.56789), 1234.57);
    }
}
