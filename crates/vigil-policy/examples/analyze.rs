//! Analyse one policy file: `cargo run -p vigil-policy --example analyze -- FILE KIND OWNER`
//! (KIND: s3, kms, sqs, sns, lambda, iam-role, secretsmanager, ecr, other). Prints one line
//! per grant, the notes, then the analysis as JSON.

use vigil_policy::{analyze, AnalysisContext, Policy, ResourceKind};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, kind, owner] = args.as_slice() else {
        eprintln!("usage: analyze FILE KIND OWNER_ACCOUNT");
        std::process::exit(2);
    };
    let result = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| Policy::parse(&text).map_err(|e| e.to_string()))
        .and_then(|policy| Ok((policy, kind.parse::<ResourceKind>()?)));
    let (policy, kind) = match result {
        Ok(ok) => ok,
        Err(e) => {
            eprintln!("{file}: {e}");
            std::process::exit(1);
        }
    };
    let analysis = analyze(&policy, &AnalysisContext::new(kind, owner));
    println!("verdict: {:?}", analysis.verdict);
    for grant in &analysis.grants {
        println!("  {}", grant.explanation);
        for why in &grant.non_restricting {
            println!("    - {why}");
        }
    }
    for note in &analysis.notes {
        println!("  note: {note}");
    }
    match serde_json::to_string_pretty(&analysis) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("cannot print the analysis as JSON: {e}"),
    }
}
