//! Tests of sweep configurations: expansion, point specs against their axis values, errors.

use super::*;

fn parse(text: &str) -> Result<SweepConfig> {
    text.parse()
}

#[test]
fn expands_lists_and_ranges_last_axis_fastest() {
    let c = parse("name = \"t\"\n[base]\nworkload = \"mobilenet\"\n[axes]\nfunctions = [4, 8]\nmemory = { from = 1728, to = 1856, step = 64 }\n").unwrap();
    assert_eq!(c.raw_points(), 6);
    let values = |i| {
        let p = c.point(i).unwrap();
        format!(
            "{},{},{}",
            p.workload.unwrap(),
            p.functions.unwrap(),
            p.memory.unwrap()
        )
    };
    assert_eq!(values(0), "mobilenet,4,1728");
    assert_eq!(values(1), "mobilenet,4,1792");
    assert_eq!(values(3), "mobilenet,8,1728");
    assert_eq!(values(5), "mobilenet,8,1856");
    let texts = c.axis_texts(5);
    assert_eq!(texts, ["8", "1856"]);
    let f = parse("name = \"f\"\n[axes]\nepochs = { from = 0.5, to = 1.5, step = 0.5 }\nplatform.network.ps_bandwidth_mb_per_s = [600, 1200]\nworkload.alpha1_samples_per_s_per_mb = { from = 0.02, to = 0.03, step = 0.01 }\n").unwrap();
    let epochs: Vec<Option<f64>> = (0..f.axes[0].len())
        .map(|i| f.axes[0].value(i).unwrap().spec.epochs)
        .collect();
    assert_eq!(epochs, [Some(0.5), Some(1.0), Some(1.5)]);
    assert_eq!(f.axes[1].name, "platform.network.ps_bandwidth_mb_per_s");
    assert_eq!(f.axes[2].name, "workload.alpha1_samples_per_s_per_mb");
    assert_eq!(f.axes[2].len(), 2);
    assert_eq!(
        f.point(0).unwrap().platform_overrides,
        vec![(
            "network.ps_bandwidth_mb_per_s".to_string(),
            crate::point::FieldValue::Int(600)
        )]
    );
}

#[test]
fn a_point_is_its_base_with_every_axis_value_merged_in_order() {
    // Differential: `point` (strides, values set in place) against the axis values merged
    // one by one, over lists, integer and real ranges, overrides, and two spellings of one
    // override key (the later axis wins).
    let c = parse(concat!(
        "name = \"d\"\n[base]\nworkload = \"resnet50\"\nseed = 3\n[axes]\n",
        "jitter = [\"none\", \"pai\", \"lambda\"]\n",
        "functions = { from = 1, to = 7, step = 3 }\n",
        "\"platform.network.ps_bandwidth_mb_per_s\" = [100, 200]\n",
        "epochs = { from = 0.5, to = 1.5, step = 0.5 }\n",
        "platform.network.ps_bandwidth_mb_per_s = [300, 400]\n",
    ))
    .unwrap();
    assert_eq!(c.raw_points(), 3 * 3 * 2 * 3 * 2);
    for index in 0..c.raw_points() {
        let mut merged = c.base.clone();
        for value in c.axis_values(index).unwrap() {
            merged.merge(&value.spec);
        }
        assert_eq!(c.point(index).unwrap(), merged, "point {index}");
        let mut texts = Fields::default();
        c.push_axis_texts(index, &mut texts);
        assert_eq!(
            texts.iter().collect::<Vec<_>>(),
            c.axis_texts(index),
            "point {index}"
        );
    }
    let last = c.point(c.raw_points() - 1).unwrap();
    assert_eq!(
        (last.jitter.as_deref(), last.functions, last.epochs),
        (Some("lambda"), Some(7), Some(1.5))
    );
    assert_eq!(
        last.platform_overrides,
        vec![(
            "network.ps_bandwidth_mb_per_s".to_string(),
            crate::point::FieldValue::Int(400)
        )]
    );
}

#[test]
fn bad_configs_name_the_field() {
    for (text, needle) in [
        ("[axes]\nfunctions = [1]\n", "field `name`"),
        (
            "name = \"x\"\n[axes]\nfunctionz = [1]\n",
            "field `axes.functionz`: unknown parameter",
        ),
        (
            "name = \"x\"\n[axes]\nfunctions = [1.5]\n",
            "field `axes.functions`: invalid type: floating point `1.5`, expected u32",
        ),
        (
            "name = \"x\"\n[axes]\nfunctions = [-1]\n",
            "field `axes.functions`",
        ),
        (
            "name = \"x\"\n[axes]\ncpu = [\"gpu\"]\n",
            "field `axes.cpu`: cpu: `gpu` is not one of fluid, cfs",
        ),
        (
            "name = \"x\"\n[axes]\nmemory = { from = 10, to = 1 }\n",
            "field `axes.memory`: needs from <= to",
        ),
        ("name = \"x\"\n[axes]\nmemory = []\n", "at least one value"),
        (
            "name = \"x\"\n[base]\nfunctions = 2\n[axes]\nfunctions = [1]\n",
            "is also an axis",
        ),
        (
            "name = \"x\"\n[filter]\nskip_everything = true\n",
            "unknown filter",
        ),
        ("name = \"x\"\nseeds = 3\n", "field `seeds`"),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{text}: {e}");
        assert!(e.starts_with("<string>"), "{e}");
    }
}
