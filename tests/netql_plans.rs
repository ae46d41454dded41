//! NetQL's planner: snapshots of a representative plan per command, and random statements that
//! must never panic the planner or the engine running what it planned.

use netql::{Planner, parse};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sonde_engine::{Engine, EngineConfig};
use sonde_server::EngineCatalog;

use crate::fabric;
use crate::netql_roundtrip::{mutated_statement, random_statement};

async fn fabric_engine(dir: &std::path::Path) -> Engine {
    let engine = Engine::open(EngineConfig::local(dir))
        .await
        .expect("engine");
    for (table, batch) in fabric::reference_batches() {
        engine.append(table, &batch).await.expect("fixture rows");
    }
    engine
}

fn plan_text(engine: &Engine, statement: &str) -> String {
    let parsed = parse(statement).unwrap_or_else(|e| panic!("{}", e.render(statement)));
    let planned = Planner::new(&EngineCatalog::new(engine.clone()), fabric::NOW)
        .plan(&parsed)
        .unwrap_or_else(|e| panic!("{}", e.render(statement)));
    planned.plan.display_indent_schema().to_string()
}

#[tokio::test]
async fn netql_plans_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = fabric_engine(dir.path()).await;
    let statements = [
        ("check_bgp", "spine01 check bgp around 10h"),
        ("check_mtu", "check mtu"),
        ("show_bgp_around", "show bgp around 10h"),
        (
            "show_changes_between",
            "show changes type bgp between 2d and 1d",
        ),
        (
            "show_interfaces_filter",
            "leaf0* show interfaces swp51 state down",
        ),
        (
            "select_group_by",
            "select hostname, count(*) from bgp where state != Established group by hostname",
        ),
        (
            "show_events",
            "leaf03 show events type bgp level error between 1d and now",
        ),
        ("show_tables", "show tables"),
        ("describe", "describe lldp"),
        ("explain", "explain spine01 check ntp around 2h"),
    ];
    for (name, statement) in statements {
        insta::assert_snapshot!(name, plan_text(&engine, statement), statement);
    }
    engine.close().await.expect("close");
}

#[tokio::test]
async fn netql_random_statements_never_panic_the_planner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = fabric_engine(dir.path()).await;
    let catalog = EngineCatalog::new(engine.clone());
    let mut rng = StdRng::seed_from_u64(0x706c_616e);
    let (mut planned, mut executed) = (0, 0);
    for round in 0..3000 {
        let input = if round % 3 == 0 {
            random_statement(&mut rng)
        } else {
            mutated_statement(&mut rng)
        };
        let Ok(statement) = parse(&input) else {
            continue;
        };
        if Planner::new(&catalog, fabric::NOW)
            .plan(&statement)
            .is_err()
        {
            continue;
        }
        planned += 1;
        if rng.random_range(0..10) == 0 {
            // Running may fail (a comparison DataFusion refuses) but must not panic.
            let _ = netql::run(&catalog, &input, fabric::NOW).await;
            executed += 1;
        }
    }
    assert!(planned > 200, "only {planned} random statements planned");
    assert!(executed > 10, "only {executed} random statements ran");
    engine.close().await.expect("close");
}

#[test]
fn netql_completion_offers_commands_families_hosts_and_fields() {
    let hosts = vec!["spine01".to_string(), "leaf01".to_string()];
    let complete = |line: &str| netql::complete::candidates(line, &hosts, sonde_schema::ALL_TABLES);
    assert_eq!(complete("che"), ["check"]);
    assert!(complete("").contains(&"spine01".to_string()));
    assert_eq!(complete("spine01 check b"), ["bgp"]);
    assert_eq!(complete("show ip r"), ["routes"]);
    assert!(
        complete("show bgp v").contains(&"vrf".to_string()),
        "{:?}",
        complete("show bgp v")
    );
    assert_eq!(complete("describe lld"), ["lldp"]);
    assert_eq!(
        complete("check bgp around 1"),
        ["10h", "10m", "1d", "1h", "1w"]
    );
}
